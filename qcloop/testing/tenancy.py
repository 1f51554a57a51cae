"""The tenancy harness: every page and API route, walked as an outsider of every role.

The victim is one complete tenant (`build_world("a")`). The outsiders are every user of an
unrelated tenant (one per role) plus two near outsiders of the victim's own circle: an
inspector of the victim's agency who is not assigned to its PO, and a user of another supplier
of the same buyer. For each route the harness knows how to aim at the victim's data:

- `object` routes name a victim object in the URL: outsiders get 404, an entitled insider does
  not (so a route that 404s for everyone cannot pass), and nothing changes. Where a 200 could
  still be empty (a ZIP of no photos), `insider_sees` names bytes the insider's answer must
  hold.
- `scoped` routes have no object in the URL (lists, home, forms): outsiders may load them but
  the response must not mention the victim's data.
- `create` routes (API POSTs to a collection) are sent a payload naming the victim's objects:
  outsiders are refused (403/404/422) and nothing is created.
- `public` routes carry no tenant data; `staff` routes (the Django admin) send non-staff users to
  the login page.

No outsider's answer may hold a victim marker (PO number, supplier, factory, product) nor the
bytes of any file of the victim's photos (original, rendition, thumbnail): a photo leaks as
bytes, not as text.

Every URL pattern and every OpenAPI operation must have an entry in `PAGE_ROUTES` or
`API_ROUTES`: a new route fails the harness until it is taught how to aim at the victim.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from uuid import uuid4

from django.urls import URLPattern, URLResolver, get_resolver

from qcloop.accounts.models import OrganisationKind, Role, User
from qcloop.accounts.services import add_member, create_api_token, create_organisation
from qcloop.orders.models import Supplier
from qcloop.orders.services import save_supplier
from qcloop.testing import World


@dataclass(frozen=True)
class Probe:
    """How the harness exercises one route."""

    kind: str  # object | scoped | create | public | staff
    methods: tuple[str, ...] = ("GET",)
    kwargs: Callable[["Victim"], dict] | None = None
    query: Callable[["Victim"], str] | None = None
    body: Callable[["Victim"], dict] | None = None
    insider: str = Role.COORDINATOR  # the victim's user entitled to the route
    multipart: bool = False  # the body is a form with files, not JSON
    insider_sees: Callable[["Victim"], bytes] | None = None  # in the insider's answer


@dataclass
class Victim:
    world: World
    token_id: int
    defect_id: int
    defect_code_id: int
    photo_id: int
    upload_id: str = ""
    report_id: int = 0
    escalation_id: int = 0
    notification_id: int = 0
    capa_evidence_id: int = 0
    markers: list[str] = field(default_factory=list)
    # The stored files of the victim's photos, by what they are ("published original", ...).
    evidence: dict[str, bytes] = field(default_factory=dict)

    def __getattr__(self, name):
        return getattr(self.world, name)


def _po(v):
    return {"pk": v.po.pk}


def _report(v):
    return {"pk": v.report_id}


def _capa(v):
    from qcloop.capa.models import CorrectiveAction

    return {"pk": CorrectiveAction.objects.get(po=v.po).pk}


def _capa_id(v):
    return {"capa_id": _capa(v)["pk"]}


def _capa_evidence(v):
    return {"pk": v.capa_evidence_id, "kind": "thumbnail"}


def _escalation(v):
    return {"pk": v.escalation_id}


def _escalation_id(v):
    return {"escalation_id": v.escalation_id}


def _notification(v):
    return {"pk": v.escalation_id, "notification": v.notification_id}


def _report_id(v):
    return {"report_id": v.report_id}


def _report_version(v):
    return {"pk": v.report_id, "number": 1}


def _forged_pdf_link(v):
    """A PDF link token for the victim's version 1, made by a stranger guessing at the format:
    the payload is right, the signature is not ours. Holders of a genuine link get the PDF
    without an account (that is what the link is for), so outsiders are probed with what they
    could make themselves."""
    from qcloop.reports.links import pdf_token
    from qcloop.reports.models import ReportVersion

    version = ReportVersion.objects.get(report_id=v.report_id, number=1)
    genuine = pdf_token(version, v.user(Role.BUYER_MANAGER).email)
    payload, _signature = genuine.rsplit(":", 1)
    return {"token": f"{payload}:{'A' * 43}"}


def _forged_ack_link(v):
    """An acknowledgement token for the victim's notification, with a signature of the
    stranger's making: it must neither show the escalation nor acknowledge it."""
    from qcloop.alerts.links import ack_token
    from qcloop.alerts.models import Notification

    genuine = ack_token(Notification.objects.get(pk=v.notification_id))
    payload, _signature = genuine.rsplit(":", 1)
    return {"token": f"{payload}:{'A' * 43}"}


def _victim_quote(v):
    """A quote issued on the victim's PO by its agency (once), for the routes that name one."""
    from qcloop.commercial.models import Quote
    from qcloop.commercial.services import issue_quote

    quote = Quote.objects.filter(po=v.po).first()
    if quote is None:
        quote = issue_quote(by=v.user(Role.COORDINATOR), po=v.po)
    return {"pk": quote.pk}


def _po_import(v):
    """An upload of the victim's coordinator naming the victim's supplier and SKU, with its
    rejected rows kept: only its uploader may map, preview, import it or fetch those rows."""
    from qcloop.orders import import_services

    user = v.user(Role.COORDINATOR)
    token = import_services.store_upload(
        user=user, data=_po_import_csv(v), filename="victim.csv", buyer=v.buyer
    )
    import_services.keep_rejected(user=user, token=token, data=b"rejected rows")
    return {"token": token}


def _po_import_csv(v) -> bytes:
    """A one-PO spreadsheet (as CSV) naming the victim's buyer's supplier and SKU."""
    import csv
    import io

    from qcloop.orders import importing

    values = {
        "number": "HIJACK-IMPORT-1",
        "supplier": v.supplier.code,
        "currency": "USD",
        "fob_value": "100",
        "carton_count": "1",
        "ex_factory_date": "2030-01-10",
        "ship_date": "2030-01-15",
        "destination_market": "US",
        "sku": v.product.sku,
        "quantity": "10",
    }
    out = io.StringIO()
    csv.writer(out).writerows(
        [importing.EXPORT_HEADERS, [values.get(f.key, "") for f in importing.FIELDS]]
    )
    return out.getvalue().encode()


def _po_import_upload(v) -> dict:
    """The API import's form: the victim's buyer and a file naming its supplier and SKU."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"buyer": v.buyer.pk, "file": SimpleUploadedFile("pos.csv", _po_import_csv(v))}


def _po_import_mapping(v) -> dict:
    """The mapping of the export's column shape, as the preview and confirm forms post it."""
    from qcloop.orders.importing import FIELDS

    return {f"map_{f.key}": str(i) for i, f in enumerate(FIELDS)} | {"day_first": "1"}


def _dupro_id(v):
    return {"milestone_id": v.milestones["DUPRO"].pk}


def _milestone(v):
    return {"pk": v.milestones["DUPRO"].pk}


def _victim_lab_test(v) -> dict:
    """An LM-79 test on the victim's DUPRO (in progress), pending, with its certificate
    already on file (made once); the certificate's bytes join the evidence no outsider may
    receive."""
    from qcloop.inspections.lab_rules import minimal_pdf
    from qcloop.inspections.lab_tests import record_lab_test
    from qcloop.inspections.models import LabTest

    dupro = v.milestones["DUPRO"]
    test = LabTest.objects.filter(milestone=dupro).first()
    if test is None:
        pdf = minimal_pdf([f"Victim LM-79 report for {v.po.number}"])
        test = record_lab_test(
            by=v.user(Role.COORDINATOR),
            milestone=dupro,
            data=_lab_fields(v),
            certificate=("victim-lm79.pdf", pdf),
        )
        v.evidence["lab certificate"] = pdf
    return {"pk": test.pk}


def _lab_test_id(v) -> dict:
    return {"lab_test_id": _victim_lab_test(v)["pk"]}


def _lab_fields(v) -> dict:
    return {
        "lab": "sgs",
        "standard": "LM-79",
        "sample_units": "3",
        "sample_drawn": "first-off units",
        "sample_id": "HIJACK-1",
        "sent_on": "2020-01-01",
        "result": "pending",
    }


def _hijack_op() -> dict:
    return {
        "id": str(uuid4()),
        "kind": "defect",
        "base_revision": 0,
        "data": {
            "uuid": str(uuid4()),
            "quantity": 1,
            "description": "hijack",
            "defect_class": "minor",
        },
    }


def _po_form(v) -> dict:
    return {
        "number": "HIJACKED",
        "fob_value": "1",
        "currency": "USD",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
    }


# Pages, by URL name. Admin views are covered as a namespace (`staff`).
PAGE_ROUTES: dict[str, Probe] = {
    "core:home": Probe("scoped"),
    "core:health": Probe("public"),
    "ops:live": Probe("public"),
    "ops:ready": Probe("public"),
    # Aggregates only, and only for a scraper holding the token: 404 to everyone else.
    "ops:metrics": Probe("public"),
    "inspections:aql": Probe("public"),
    "accounts:login": Probe("public"),
    "accounts:logout": Probe("scoped", methods=("POST",)),
    "accounts:tokens": Probe("scoped"),
    "accounts:revoke_token": Probe(
        "object",
        methods=("POST",),
        kwargs=lambda v: {"pk": v.token_id},
        insider=Role.BUYER_MANAGER,
    ),
    # Searches use a prefix of the victim's strings: a broken gate would match them, while the
    # search box echoing the query cannot pass for a leak.
    "orders:po_list": Probe(
        "scoped", query=lambda v: f"?q={v.po.number[:-1]}&supplier={v.supplier.pk}"
    ),
    "orders:po_create": Probe("scoped", methods=("GET", "POST"), body=_po_form),
    "orders:factory_options": Probe("object", query=lambda v: f"?supplier={v.supplier.pk}"),
    "orders:po_detail": Probe("object", kwargs=_po),
    "orders:po_edit": Probe("object", methods=("GET", "POST"), kwargs=_po, body=_po_form),
    "orders:supplier_list": Probe("scoped", query=lambda v: f"?q={v.supplier.name[:-1]}"),
    "orders:supplier_detail": Probe("object", kwargs=lambda v: {"pk": v.supplier.pk}),
    "orders:product_list": Probe("scoped", query=lambda v: f"?q={v.product.sku[:-1]}"),
    "orders:product_detail": Probe("object", kwargs=lambda v: {"pk": v.product.pk}),
    "orders:po_import": Probe(
        "scoped", methods=("GET", "POST"), body=lambda v: {"buyer": v.buyer.pk}
    ),
    "orders:po_import_mapping": Probe(
        "object", methods=("GET", "POST"), kwargs=_po_import, body=_po_import_mapping
    ),
    "orders:po_import_preview": Probe(
        "object", methods=("POST",), kwargs=_po_import, body=_po_import_mapping
    ),
    "orders:po_import_confirm": Probe(
        "object", methods=("POST",), kwargs=_po_import, body=_po_import_mapping
    ),
    "orders:po_import_rejected": Probe(
        "object", kwargs=_po_import, insider_sees=lambda v: b"rejected rows"
    ),
    "orders:po_export": Probe("scoped", query=lambda v: f"?q={v.po.number[:-1]}"),
    "inspections:milestone_detail": Probe("object", kwargs=_milestone),
    "inspections:milestone_plan": Probe(
        "object",
        methods=("POST",),
        kwargs=_milestone,
        body=lambda v: {"window_start": "2020-01-01", "window_end": "2020-01-02"},
    ),
    "inspections:milestone_sampling": Probe(
        "object", methods=("POST",), kwargs=_milestone, body=lambda v: {"lot_size": "1000"}
    ),
    "inspections:inspect": Probe("object", kwargs=_milestone),
    "inspections:checklists": Probe("scoped"),
    "inspections:milestone_photos": Probe("object", kwargs=_milestone),
    "inspections:upload_photos": Probe("object", methods=("POST",), kwargs=_milestone),
    "inspections:po_photos": Probe("object", kwargs=_po),
    # The field app's shell carries no data: the phone fetches it through the API.
    "capa:list": Probe("scoped"),
    "capa:detail": Probe("object", kwargs=_capa),
    "capa:answer": Probe(
        "object", methods=("POST",), kwargs=_capa, body=lambda v: {"root_cause": "hijack"}
    ),
    "capa:decide": Probe(
        "object", methods=("POST",), kwargs=_capa, body=lambda v: {"decision": "accept"}
    ),
    "capa:verify": Probe(
        "object",
        methods=("POST",),
        kwargs=_capa,
        body=lambda v: {"milestone": v.milestones["PSI"].pk, "effective": "yes"},
        insider=Role.QC_LEAD,
    ),
    "capa:evidence_file": Probe("object", kwargs=_capa_evidence),
    "capa:new": Probe(
        "object",
        methods=("GET", "POST"),
        kwargs=lambda v: {"pk": v.milestones["PSI"].pk},
        body=lambda v: {"finding": "defect:text:victim scratch"},
        insider=Role.QC_LEAD,
    ),
    "analytics:dashboard": Probe("scoped", query=lambda v: f"?supplier={v.supplier.pk}"),
    "analytics:dashboard_export": Probe(
        "scoped",
        kwargs=lambda v: {"name": "supplier-defects", "fmt": "csv"},
        query=lambda v: f"?supplier={v.supplier.pk}",
    ),
    "analytics:dashboard_snapshot": Probe(
        "scoped",
        methods=("POST",),
        body=lambda v: {"period": f"{date.today():%Y-%m}", "supplier": v.supplier.pk},
    ),
    "analytics:scorecards": Probe("scoped", query=lambda v: "?sort=major-worst"),
    "analytics:scorecards_export": Probe(
        "scoped", kwargs=lambda v: {"name": "scorecards", "fmt": "csv"}
    ),
    "analytics:scorecard": Probe("object", kwargs=lambda v: {"pk": v.supplier.pk}),
    "analytics:scorecard_export": Probe(
        "object", kwargs=lambda v: {"pk": v.supplier.pk, "name": "all", "fmt": "xlsx"}
    ),
    "commercial:po_quote": Probe(
        "object", methods=("GET", "POST"), kwargs=_po, body=lambda v: {"milestones": ["PSI"]}
    ),
    "commercial:quote_accept": Probe(
        "object",
        methods=("POST",),
        kwargs=_victim_quote,
        body=lambda v: {"option": "separate"},
        insider=Role.BUYER_MANAGER,
    ),
    "commercial:fee_schedules": Probe(
        "scoped", methods=("GET", "POST"), body=lambda v: {"form": "schedule", "country": "ZZ"}
    ),
    "alerts:list": Probe("scoped"),
    "alerts:settings": Probe("scoped", insider=Role.BUYER_MANAGER),
    "alerts:detail": Probe("object", kwargs=_escalation),
    "alerts:acknowledge": Probe("object", methods=("POST",), kwargs=_escalation),
    "alerts:replay": Probe("object", methods=("POST",), kwargs=_notification),
    "alerts:ack_link": Probe("public", methods=("GET", "POST"), kwargs=_forged_ack_link),
    "reports:list": Probe("scoped"),
    "reports:turnaround": Probe("scoped"),
    "reports:recipients": Probe("scoped", insider=Role.BUYER_MANAGER),
    "reports:detail": Probe("object", kwargs=_report),
    "reports:preview_pdf": Probe("object", kwargs=_report),
    "reports:review": Probe(
        "object",
        methods=("POST",),
        kwargs=_report,
        body=lambda v: {"action": "comment", "text": "hijack"},
    ),
    "reports:correction": Probe(
        "object",
        methods=("POST",),
        kwargs=_report,
        body=lambda v: {"action": "open", "reason": "hijack"},
        insider=Role.QC_LEAD,
    ),
    "reports:version": Probe("object", kwargs=_report_version),
    "reports:version_pdf": Probe("object", kwargs=_report_version),
    "reports:verify": Probe("public"),
    "reports:linked_pdf": Probe("public", kwargs=_forged_pdf_link),
    # The buyer sees the photos of the published PSI only: the ZIP must carry that original.
    "reports:dossier": Probe(
        "object",
        kwargs=_po,
        insider=Role.BUYER_MANAGER,
        insider_sees=lambda v: v.evidence["published original"],
    ),
    "field:app": Probe("scoped"),
    "field:service_worker": Probe("public"),
    "field:manifest": Probe("public"),
    "inspections:photo_file": Probe(
        "object", kwargs=lambda v: {"pk": v.photo_id, "kind": "thumbnail"}
    ),
    "inspections:review_photo": Probe(
        "object",
        methods=("POST",),
        kwargs=lambda v: {"pk": v.photo_id},
        body=lambda v: {"justification": "hijack"},
    ),
    "inspections:checklist_edit": Probe(
        "object",
        methods=("GET", "POST"),
        kwargs=lambda v: {"pk": v.milestones["DUPRO"].checklist.template_id},
        body=lambda v: {"items": "X | packaging | required | fail | check | hijack"},
    ),
    "inspections:record_answer": Probe(
        "object", methods=("POST",), kwargs=_milestone, body=lambda v: {"item_code": "X"}
    ),
    "inspections:record_defect": Probe(
        "object",
        methods=("POST",),
        kwargs=_milestone,
        body=lambda v: {"description": "hijack", "defect_class": "major", "quantity": "1"},
    ),
    "inspections:remove_defect": Probe(
        "object", methods=("POST",), kwargs=lambda v: {**_milestone(v), "defect_pk": v.defect_id}
    ),
    "inspections:record_reading": Probe("object", methods=("POST",), kwargs=_milestone),
    "inspections:record_production": Probe(
        "object",
        methods=("POST",),
        kwargs=_milestone,
        body=lambda v: {
            "counted_on": "2030-01-01",
            "produced": "1",
            "finished": "0",
            "packed": "0",
        },
    ),
    "inspections:record_carton": Probe(
        "object", methods=("POST",), kwargs=_milestone, body=lambda v: {"carton_number": "1"}
    ),
    "inspections:record_loading": Probe(
        "object",
        methods=("POST",),
        kwargs=_milestone,
        body=lambda v: {"container_number": "CSQU3054383", "seal_number": "1"},
    ),
    "inspections:submit": Probe("object", methods=("POST",), kwargs=_milestone),
    "inspections:lab_test_new": Probe(
        "object", methods=("GET", "POST"), kwargs=_milestone, body=_lab_fields
    ),
    "inspections:lab_test_edit": Probe(
        "object", methods=("GET", "POST"), kwargs=_victim_lab_test, body=_lab_fields
    ),
    "inspections:lab_test_delete": Probe("object", methods=("POST",), kwargs=_victim_lab_test),
    "inspections:lab_certificate": Probe(
        "object", kwargs=_victim_lab_test, insider_sees=lambda v: v.evidence["lab certificate"]
    ),
    "inspections:milestone_transition": Probe(
        "object", methods=("POST",), kwargs=_milestone, body=lambda v: {"to": "cancelled"}
    ),
    "scheduling:po_schedule": Probe("object", kwargs=_po),
    "scheduling:report_progress": Probe(
        "object",
        methods=("POST",),
        kwargs=_po,
        body=lambda v: {"reported_on": "2020-01-01", "produced": "1", "packed": "0"},
    ),
    "scheduling:book": Probe(
        "object",
        methods=("POST",),
        kwargs=lambda v: {"pk": v.milestones["CLI"].pk},
        body=lambda v: {"inspector": v.inspector.pk, "day": "2030-01-02"},
    ),
    "scheduling:reassign_lead": Probe(
        "object",
        methods=("POST",),
        kwargs=_po,
        body=lambda v: {"qc_lead": v.qc_lead.pk, "reason": "Lead on leave"},
    ),
    "scheduling:calendar": Probe("scoped", query=lambda v: f"?inspector={v.inspector.pk}"),
    "scheduling:calendar_change": Probe(
        "scoped",
        methods=("POST",),
        body=lambda v: {"action": "day_off", "inspector": v.inspector.pk, "day": "2030-01-02"},
    ),
    "scheduling:feeds": Probe("scoped", methods=("GET", "POST"), body=lambda v: {"kind": "buyer"}),
    # A calendar app has no session: the token is the key, and a made-up one finds nothing.
    "scheduling:feed": Probe("public", kwargs=lambda v: {"token": "A" * 43}),
}
STAFF_NAMESPACES = {"admin"}


def _ids(v) -> dict:
    return {
        "buyer": v.buyer.pk,
        "agency": v.agency.pk,
        "supplier": v.supplier.pk,
        "factory": v.factory.pk,
        "product": v.product.pk,
        "po": v.po.pk,
        "qc_lead": v.qc_lead.pk,
    }


# API operations, by "METHOD /path" as the OpenAPI schema names them.
API_ROUTES: dict[str, Probe] = {
    "GET /api/reports": Probe("scoped"),
    "GET /api/reports/{report_id}": Probe("object", kwargs=_report_id),
    "GET /api/reports/{report_id}/versions/{number}": Probe(
        "object", kwargs=lambda v: {**_report_id(v), "number": 1}
    ),
    "GET /api/reports/{report_id}/versions/{number}/pdf": Probe(
        "object", kwargs=lambda v: {**_report_id(v), "number": 1}
    ),
    "POST /api/reports/{report_id}/comments": Probe(
        "object", methods=("POST",), kwargs=_report_id, body=lambda v: {"text": "hijack"}
    ),
    "POST /api/reports/{report_id}/send-back": Probe(
        "object",
        methods=("POST",),
        kwargs=_report_id,
        body=lambda v: {"text": "hijack"},
        insider=Role.QC_LEAD,
    ),
    "POST /api/reports/{report_id}/approve": Probe(
        "object", methods=("POST",), kwargs=_report_id, body=lambda v: {}, insider=Role.QC_LEAD
    ),
    "POST /api/reports/{report_id}/correction": Probe(
        "object",
        methods=("POST",),
        kwargs=_report_id,
        body=lambda v: {"reason": "hijack"},
        insider=Role.QC_LEAD,
    ),
    "POST /api/reports/{report_id}/correction/publish": Probe(
        "object", methods=("POST",), kwargs=_report_id, body=lambda v: {}, insider=Role.QC_LEAD
    ),
    "GET /api/capas": Probe("scoped"),
    "GET /api/capas/{capa_id}": Probe("object", kwargs=_capa_id),
    "POST /api/capas": Probe(
        "create",
        body=lambda v: {"milestone": v.milestones["PSI"].pk, "finding_key": "defect:x"},
        insider=Role.QC_LEAD,
    ),
    "POST /api/capas/{capa_id}/answer": Probe(
        "object",
        methods=("POST",),
        kwargs=_capa_id,
        body=lambda v: {"whys": "hijack", "root_cause": "x", "correction": "x", "prevention": "x"},
        multipart=True,
        insider=Role.SUPPLIER_USER,
    ),
    "POST /api/capas/{capa_id}/decision": Probe(
        "object",
        methods=("POST",),
        kwargs=_capa_id,
        body=lambda v: {"accept": True},
        insider=Role.QC_LEAD,
    ),
    "POST /api/capas/{capa_id}/verifications": Probe(
        "object",
        methods=("POST",),
        kwargs=_capa_id,
        body=lambda v: {"milestone": v.milestones["PSI"].pk, "effective": True},
        insider=Role.QC_LEAD,
    ),
    "GET /api/capa-evidence/{evidence_id}/{kind}": Probe(
        "object", kwargs=lambda v: {"evidence_id": v.capa_evidence_id, "kind": "thumbnail"}
    ),
    "GET /api/escalations": Probe("scoped"),
    "GET /api/escalations/{escalation_id}": Probe("object", kwargs=_escalation_id),
    "POST /api/escalations/{escalation_id}/acknowledge": Probe(
        "object", methods=("POST",), kwargs=_escalation_id, body=lambda v: {}
    ),
    "POST /api/escalations/{escalation_id}/notifications/{notification_id}/replay": Probe(
        "object",
        methods=("POST",),
        kwargs=lambda v: {**_escalation_id(v), "notification_id": v.notification_id},
        body=lambda v: {},
    ),
    "GET /api/verify": Probe("public"),
    "POST /api/verify": Probe("public"),
    "GET /api/me": Probe("scoped"),
    "GET /api/suppliers": Probe("scoped", query=lambda v: f"?buyer={v.buyer.pk}"),
    "POST /api/suppliers": Probe(
        "create",
        body=lambda v: {"buyer": v.buyer.pk, "code": "HIJACK", "name": "Hijack", "country": "CN"},
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/suppliers/{supplier_id}": Probe(
        "object", kwargs=lambda v: {"supplier_id": v.supplier.pk}
    ),
    "PATCH /api/suppliers/{supplier_id}": Probe(
        "object",
        kwargs=lambda v: {"supplier_id": v.supplier.pk},
        body=lambda v: {"name": "X"},
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/factories": Probe("scoped", query=lambda v: f"?supplier={v.supplier.pk}"),
    "POST /api/factories": Probe(
        "create",
        body=lambda v: {
            "supplier": v.supplier.pk,
            "name": "Hijack",
            "address": "x",
            "city": "x",
            "country": "CN",
            "latitude": "1",
            "longitude": "1",
            "timezone": "Asia/Shanghai",
        },
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/factories/{factory_id}": Probe(
        "object", kwargs=lambda v: {"factory_id": v.factory.pk}
    ),
    "PATCH /api/factories/{factory_id}": Probe(
        "object",
        kwargs=lambda v: {"factory_id": v.factory.pk},
        body=lambda v: {"name": "X"},
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/products": Probe(
        "scoped", query=lambda v: f"?buyer={v.buyer.pk}&q={v.product.sku[:-1]}"
    ),
    "POST /api/products": Probe(
        "create",
        body=lambda v: {"buyer": v.buyer.pk, "sku": "HIJACK", "name": "Hijack", "category": "toys"},
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/products/{product_id}": Probe(
        "object", kwargs=lambda v: {"product_id": v.product.pk}
    ),
    "PATCH /api/products/{product_id}": Probe(
        "object",
        kwargs=lambda v: {"product_id": v.product.pk},
        body=lambda v: {"name": "X"},
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/purchase-orders": Probe(
        "scoped",
        query=lambda v: f"?supplier={v.supplier.pk}&buyer={v.buyer.pk}&q={v.po.number[:-1]}",
    ),
    "POST /api/purchase-orders": Probe(
        "create",
        body=lambda v: {
            "number": "HIJACK-1",
            "buyer": v.buyer.pk,
            "agency": v.agency.pk,
            "supplier": v.supplier.pk,
            "factory": v.factory.pk,
            "qc_lead": v.qc_lead.pk,
            "currency": "USD",
            "fob_value": "1000.00",
            "unit": "pcs",
            "carton_count": 1,
            "ex_factory_date": "2030-01-10",
            "ship_date": "2030-01-15",
            "destination_market": "US",
            "lines": [{"product": v.product.pk, "quantity": 10}],
        },
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/purchase-orders/{po_id}": Probe("object", kwargs=lambda v: {"po_id": v.po.pk}),
    "POST /api/purchase-orders/import": Probe(
        "create", body=_po_import_upload, multipart=True, insider=Role.BUYER_MANAGER
    ),
    "GET /api/purchase-orders/{po_id}/recommendation": Probe(
        "object", kwargs=lambda v: {"po_id": v.po.pk}, insider=Role.BUYER_MANAGER
    ),
    "GET /api/purchase-orders/{po_id}/quotes": Probe(
        "object", kwargs=lambda v: {"po_id": v.po.pk}, insider=Role.BUYER_VIEWER
    ),
    "POST /api/purchase-orders/{po_id}/quotes": Probe(
        "object", kwargs=lambda v: {"po_id": v.po.pk}, body=lambda v: {"milestones": ["PSI"]}
    ),
    "GET /api/purchase-orders/{po_id}/dossier": Probe(
        "object",
        kwargs=lambda v: {"po_id": v.po.pk},
        query=lambda v: "?files=renditions",
        insider=Role.BUYER_MANAGER,
        insider_sees=lambda v: v.evidence["published rendition"],
    ),
    "PATCH /api/purchase-orders/{po_id}": Probe(
        "object", kwargs=lambda v: {"po_id": v.po.pk}, body=lambda v: {"notes": "hijacked"}
    ),
    "GET /api/milestones": Probe("scoped", query=lambda v: f"?po={v.po.pk}"),
    "POST /api/milestones": Probe(
        "create",
        body=lambda v: {
            "po": v.po.pk,
            "kind": "PSI",
            "window_start": "2030-01-01",
            "window_end": "2030-01-05",
        },
    ),
    "POST /api/milestones/{milestone_id}/sampling": Probe(
        "object",
        kwargs=lambda v: {"milestone_id": v.milestones["DUPRO"].pk},
        body=lambda v: {"lot_size": 1000},
    ),
    "GET /api/milestones/{milestone_id}/inspection": Probe("object", kwargs=_dupro_id),
    "POST /api/milestones/{milestone_id}/answers": Probe(
        "object", kwargs=_dupro_id, body=lambda v: [], insider=Role.INSPECTOR
    ),
    "POST /api/milestones/{milestone_id}/defects": Probe(
        "object",
        kwargs=_dupro_id,
        insider=Role.INSPECTOR,
        body=lambda v: {"quantity": 1, "description": "hijack", "defect_class": "minor"},
    ),
    "DELETE /api/milestones/{milestone_id}/defects/{defect_id}": Probe(
        "object",
        kwargs=lambda v: {**_dupro_id(v), "defect_id": v.defect_id},
        insider=Role.INSPECTOR,
    ),
    "POST /api/milestones/{milestone_id}/readings": Probe(
        "object",
        kwargs=_dupro_id,
        insider=Role.INSPECTOR,
        body=lambda v: {
            "chart": 0,
            "sample_unit": 1,
            "point_code": "H",
            "value": "1",
            "unit": "cm",
        },
    ),
    "PUT /api/milestones/{milestone_id}/production": Probe(
        "object",
        kwargs=_dupro_id,
        insider=Role.INSPECTOR,
        body=lambda v: {"counted_on": "2030-01-01", "produced": 1},
    ),
    "POST /api/milestones/{milestone_id}/cartons": Probe(
        "object", kwargs=_dupro_id, insider=Role.INSPECTOR, body=lambda v: {"carton_number": 1}
    ),
    "PUT /api/milestones/{milestone_id}/loading": Probe(
        "object",
        kwargs=_dupro_id,
        insider=Role.INSPECTOR,
        body=lambda v: {"container_number": "CSQU3054383", "seal_number": "S"},
    ),
    "POST /api/milestones/{milestone_id}/submit": Probe(
        "object", kwargs=_dupro_id, insider=Role.INSPECTOR
    ),
    "GET /api/milestones/{milestone_id}/photos": Probe("object", kwargs=_dupro_id),
    "POST /api/milestones/{milestone_id}/photos": Probe(
        "object",
        kwargs=_dupro_id,
        insider=Role.INSPECTOR,
        multipart=True,
        body=lambda v: {"file": tiny_jpeg(), "caption": "hijack"},
    ),
    "GET /api/lab-standards": Probe("scoped"),
    "GET /api/milestones/{milestone_id}/lab-tests": Probe("object", kwargs=_dupro_id),
    "POST /api/milestones/{milestone_id}/lab-tests": Probe(
        "object", kwargs=_dupro_id, multipart=True, body=_lab_fields
    ),
    "GET /api/lab-tests/{lab_test_id}": Probe("object", kwargs=_lab_test_id),
    "POST /api/lab-tests/{lab_test_id}": Probe(
        "object", kwargs=_lab_test_id, multipart=True, body=lambda v: {"note": "hijack"}
    ),
    "DELETE /api/lab-tests/{lab_test_id}": Probe("object", kwargs=_lab_test_id),
    "GET /api/lab-tests/{lab_test_id}/certificate": Probe(
        "object", kwargs=_lab_test_id, insider_sees=lambda v: v.evidence["lab certificate"]
    ),
    "GET /api/field/session": Probe("scoped"),
    "GET /api/field/milestones": Probe("scoped"),
    "GET /api/field/milestones/{milestone_id}/package": Probe(
        "object", kwargs=_dupro_id, insider=Role.INSPECTOR
    ),
    "POST /api/field/milestones/{milestone_id}/sync": Probe(
        "object",
        kwargs=_dupro_id,
        insider=Role.INSPECTOR,
        body=lambda v: {
            "device": "7d4a6c8e-1f0b-4c55-9a51-0f1e2d3c4b5a",
            "ops": [_hijack_op()],
        },
    ),
    "POST /api/field/uploads": Probe(
        "create",
        insider=Role.INSPECTOR,
        body=lambda v: {
            "id": str(uuid4()),
            "milestone": v.milestones["DUPRO"].pk,
            "photo": str(uuid4()),
            "part": "photo",
            "size": 10,
            "sha256": "1" * 64,
        },
    ),
    "GET /api/field/uploads/{upload_id}": Probe(
        "object", kwargs=lambda v: {"upload_id": v.upload_id}, insider=Role.INSPECTOR
    ),
    "PUT /api/field/uploads/{upload_id}": Probe(
        "object",
        methods=("PUT",),
        kwargs=lambda v: {"upload_id": v.upload_id},
        query=lambda v: "?offset=0",
        insider=Role.INSPECTOR,
    ),
    "GET /api/defect-codes": Probe("scoped"),
    "PUT /api/defect-overrides": Probe(
        "create",
        body=lambda v: {"buyer": v.buyer.pk, "code": v.defect_code_id, "defect_class": "critical"},
        insider=Role.BUYER_MANAGER,
    ),
    "GET /api/checklists": Probe("scoped"),
    "POST /api/checklists/{template_id}/versions": Probe(
        "object",
        kwargs=lambda v: {"template_id": v.milestones["DUPRO"].checklist.template_id},
        body=lambda v: {"items": []},
    ),
    "GET /api/measurement-charts": Probe("scoped", query=lambda v: f"?product={v.product.pk}"),
    "POST /api/measurement-charts": Probe(
        "create",
        insider=Role.BUYER_MANAGER,
        body=lambda v: {
            "product": v.product.pk,
            "points": [
                {
                    "code": "H",
                    "name": "Height",
                    "spec": "10",
                    "minus": "1",
                    "plus": "1",
                    "unit": "cm",
                }
            ],
        },
    ),
    "GET /api/milestones/{milestone_id}": Probe(
        "object", kwargs=lambda v: {"milestone_id": v.milestones["DUPRO"].pk}
    ),
    "PATCH /api/milestones/{milestone_id}": Probe(
        "object",
        kwargs=lambda v: {"milestone_id": v.milestones["DUPRO"].pk},
        body=lambda v: {"status": "cancelled"},
    ),
    "GET /api/purchase-orders/{po_id}/progress-reports": Probe(
        "object", kwargs=lambda v: {"po_id": v.po.pk}
    ),
    "POST /api/purchase-orders/{po_id}/progress-reports": Probe(
        "object",
        kwargs=lambda v: {"po_id": v.po.pk},
        body=lambda v: {"reported_on": "2020-01-01", "produced": 1},
    ),
    "GET /api/purchase-orders/{po_id}/schedule": Probe(
        "object", kwargs=lambda v: {"po_id": v.po.pk}
    ),
    "GET /api/purchase-orders/{po_id}/bookings": Probe(
        "object", kwargs=lambda v: {"po_id": v.po.pk}
    ),
    "POST /api/milestones/{milestone_id}/booking": Probe(
        "object",
        kwargs=lambda v: {"milestone_id": v.milestones["CLI"].pk},
        body=lambda v: {"inspector": v.inspector.pk, "day": "2030-01-02"},
    ),
}

# Routes that belong to the API's own machinery rather than to an operation.
API_MACHINERY = {"api:openapi-json", "api:openapi-view", "api:api-root"}


def page_routes() -> dict[str, str]:
    """Every named URL pattern outside the admin and the API: {"ns:name": "pattern"}."""
    routes: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
                routes[name] = prefix + str(pattern.pattern)

    walk(get_resolver().url_patterns, "", None)
    return {
        name: path
        for name, path in routes.items()
        if name.split(":")[0] not in STAFF_NAMESPACES | {"api"}
    }


def api_operations() -> dict[str, str]:
    """Every operation of the OpenAPI schema: {"METHOD /path": operationId}."""
    from qcloop.api import api

    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path}": operation.get("operationId", "")
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


def api_url_paths() -> dict[str, str]:
    """Every URL pattern under /api/, as {"api:name": "/api/path/{param}"}."""
    paths = {}
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "api":
            for route in pattern.url_patterns:
                path = "/" + str(pattern.pattern) + str(route.pattern)
                paths[f"api:{route.name}"] = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    return paths


def prepare_victim(world: World) -> Victim:
    """The victim's data, a token to aim at, and the strings that would betray a leak."""
    token, _ = create_api_token(user=world.user(Role.BUYER_MANAGER), name="victim token")
    markers = [
        world.po.number,
        world.supplier.name,
        world.supplier.code,
        world.factory.name,
        world.product.sku,
        world.product.name,
    ]
    from qcloop.inspections.models import DefectCode

    code = DefectCode.objects.filter(agency__isnull=True, category="lighting").first()
    victim = Victim(
        world=world,
        token_id=token.pk,
        defect_id=_victim_defect(world).pk,
        defect_code_id=code.pk,
        photo_id=_victim_photo(world).pk,
        upload_id=_victim_upload(world),
        report_id=_victim_report(world),
        markers=markers,
    )
    victim.escalation_id, victim.notification_id = _victim_escalation(world, victim.defect_id)
    victim.capa_evidence_id = _victim_capa_evidence(world)
    victim.evidence = _victim_evidence(world)
    return victim


def _victim_escalation(world: World, defect_id: int) -> tuple[int, int]:
    """The victim's defect escalated as if critical, with its notifications waiting."""
    from qcloop.alerts.services import escalate_critical
    from qcloop.inspections.models import Defect

    escalation = escalate_critical(Defect.objects.get(pk=defect_id))
    return escalation.pk, escalation.notifications.first().pk


def _victim_capa_evidence(world: World) -> int:
    """The supplier's answer to the victim's CAPA, with an evidence photo."""
    from qcloop.capa.models import CapaEvidence, CorrectiveAction
    from qcloop.capa.services import answer_capa

    answer_capa(
        by=world.user(Role.SUPPLIER_USER),
        capa=CorrectiveAction.objects.get(po=world.po),
        whys=["Victim why"],
        root_cause="Victim root cause",
        correction="Victim correction",
        prevention="Victim prevention",
        evidence=[("victim-fix.jpg", _jpeg((320, 240), (200, 60, 60)))],
    )
    return CapaEvidence.objects.get(capa__po=world.po).pk


def _victim_report(world: World) -> int:
    """The victim's PSI, inspected with a photo of its defect and published as version 1 of
    its report."""
    from qcloop.reports.models import Report
    from qcloop.reports.services import approve
    from qcloop.testing import submit_inspection_of

    # A photo of the defect: once published, the buyer's and the supplier's to see.
    photo = _jpeg((640, 480), (40, 90, 160))
    psi = submit_inspection_of(
        world, "PSI", defects=[("major", 2, "Victim scratch")], photos=[(photo, "Scratch", True)]
    )
    report = Report.objects.get(milestone=psi)
    approve(by=world.qc_lead, report=report, lead_summary="Victim summary")
    return report.pk


def _victim_upload(world: World) -> str:
    """A photo upload under way from the victim inspector's phone."""
    import uuid

    from qcloop.field.uploads import declare_upload

    upload = declare_upload(
        by=world.inspector,
        milestone=world.milestones["DUPRO"],
        upload_id=uuid.uuid4(),
        photo_uuid=uuid.uuid4(),
        part="photo",
        size=100,
        sha256="0" * 64,
        name="victim-upload.jpg",
    )
    return str(upload.pk)


def _victim_defect(world: World):
    """The victim's DUPRO in progress with a defect recorded: something to aim at."""
    from qcloop.inspections.recording import record_defect
    from qcloop.inspections.services import update_milestone

    dupro = world.milestones["DUPRO"]
    update_milestone(
        by=world.qc_lead,
        milestone=dupro,
        changes={"inspection_date": dupro.window_start, "status": "booked"},
    )
    update_milestone(by=world.inspector, milestone=dupro, changes={"status": "in_progress"})
    dupro.refresh_from_db()
    world.milestones["DUPRO"] = dupro
    return record_defect(
        by=world.inspector,
        milestone=dupro,
        quantity=1,
        description="Scratch on base",
        defect_class="minor",
    )


def tiny_jpeg():
    """A small real JPEG upload."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile("tiny.jpg", buffer.getvalue(), content_type="image/jpeg")


def _jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def _victim_photo(world: World):
    """A processed photo on the victim's DUPRO, still in progress: the agency's alone."""
    from qcloop.inspections.photos import ingest, upload_photo

    attachment = upload_photo(
        by=world.inspector,
        milestone=world.milestones["DUPRO"],
        data=_jpeg((640, 480), (180, 120, 60)),
        name="victim.jpg",
        caption="Victim photo",
    )
    ingest(attachment.pk)
    return attachment


def _victim_evidence(world: World) -> dict[str, bytes]:
    """The stored files of every photo of the victim's PO, named by milestone state and kind:
    "published original", "in progress thumbnail", ..."""
    from django.core.files.storage import default_storage

    from qcloop.inspections.models import AttachmentStatus, PhotoAttachment

    evidence = {}
    attachments = PhotoAttachment.objects.filter(
        milestone__po=world.po, status=AttachmentStatus.READY
    ).select_related("photo", "milestone")
    for attachment in attachments:
        state = "published" if attachment.milestone.status == "published" else "in progress"
        for kind in ("original", "rendition", "thumbnail"):
            name = f"{state} {kind}"
            if name in evidence:
                name = f"{name} of attachment {attachment.pk}"
            with default_storage.open(getattr(attachment.photo, kind), "rb") as stored:
                evidence[name] = stored.read()
    assert {"published original", "in progress original"} <= set(evidence), evidence.keys()
    return evidence


def outsiders(victim: World, stranger: World) -> dict[str, User]:
    """Every role of an unrelated tenant, and two near outsiders of the victim's own circle."""
    people = {f"stranger {role}": user for role, user in stranger.users.items()}
    people["unassigned inspector of the victim's agency"] = add_member(
        organisation=victim.agency,
        email="unassigned.inspector@example.com",
        full_name="Unassigned Inspector",
        role=Role.INSPECTOR,
    )
    sibling_org = create_organisation(
        name="Sibling Supplier Ltd", kind=OrganisationKind.SUPPLIER, country="VN"
    )
    save_supplier(
        by=victim.user(Role.BUYER_MANAGER),
        supplier=Supplier(
            buyer=victim.buyer,
            organisation=sibling_org,
            code="SIB-1",
            name="Sibling Supplier Ltd",
            country="VN",
        ),
    )
    people["user of another supplier of the same buyer"] = add_member(
        organisation=sibling_org,
        email="sibling@example.com",
        full_name="Sibling User",
        role=Role.SUPPLIER_USER,
    )
    return people


def body_of(response) -> bytes:
    """The whole body of a response, streamed (a ZIP, a file) or not."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def leaked(victim: Victim, body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    found = [marker for marker in victim.markers if marker in text]
    return found + [
        f"the {name} of a photo" for name, data in victim.evidence.items() if data in body
    ]
