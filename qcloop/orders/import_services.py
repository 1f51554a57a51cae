"""POs from a buyer's spreadsheet, and back: the database side of `qcloop.orders.importing`.

- What a row names (vendor code or name, factory, SKU, agency, QC lead) is looked up within
  the chosen buyer, through the caller's tenancy gate: another buyer's supplier reads as
  unknown, exactly as a code that does not exist.
- Every PO is checked by `services.check_po`, the rules of the PO form, and each message is
  put on the row and the column it is about ("Row 14, Ex-factory date: ...").
- The import is one transaction through `services.create_purchase_order` (which plans the
  milestones as the form does): all or nothing, or, when the user chooses, the valid POs only,
  with the skipped rows kept as an XLSX with an error column.
- The uploaded file waits between the mapping, preview and confirm steps in the default
  storage under a random token in the user's own folder, and is deleted after the import or
  after a day."""

import io
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from qcloop.accounts.models import Organisation, OrganisationKind, Role, User
from qcloop.core.reference import markets
from qcloop.core.tenancy import for_user

from . import importing
from .importing import FIELD_BY_KEY, Issue, Options, POInput, Table
from .models import Factory, Product, PurchaseOrder, Supplier
from .services import (
    LineDraft,
    PODraft,
    buyers_managed_by,
    can_manage_for_buyer,
    check_po,
    create_purchase_order,
    one_notice_per_qc_lead,
)

UPLOAD_DIR = "po-imports"
UPLOAD_TTL = timedelta(days=1)
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MARKET_ALIASES = {"usa": "US", "uk": "GB", "great britain": "GB", "europe": "EU"}


# --- the upload between the steps ----------------------------------------------------------


class UploadGone(LookupError):
    """No such upload for this user (never made, someone else's, imported or expired)."""


def _folder(user: User, token: str) -> str:
    if not TOKEN.fullmatch(token or ""):
        raise UploadGone(token)
    return f"{UPLOAD_DIR}/{user.pk}/{token}"


def store_upload(*, user: User, data: bytes, filename: str, buyer: Organisation) -> str:
    """Keep the file for the next steps; returns its token. Reading it here first means a
    file that is not a spreadsheet is refused at once (raises `ImportFileError`)."""
    importing.read_table(data, filename)
    purge_stale_uploads()
    token = secrets.token_urlsafe(16)
    folder = _folder(user, token)
    meta = {"filename": filename[:200], "buyer": buyer.pk}
    default_storage.save(f"{folder}/upload", ContentFile(data))
    default_storage.save(f"{folder}/meta.json", ContentFile(json.dumps(meta).encode()))
    return token


@dataclass
class Upload:
    token: str
    filename: str
    buyer: Organisation
    data: bytes

    def table(self) -> Table:
        return importing.read_table(self.data, self.filename)


def open_upload(*, user: User, token: str) -> Upload:
    """The user's own upload (raises `UploadGone` for anyone else's, or one that is gone)."""
    folder = _folder(user, token)
    try:
        with default_storage.open(f"{folder}/meta.json") as f:
            meta = json.loads(f.read())
        with default_storage.open(f"{folder}/upload") as f:
            data = f.read()
    except (FileNotFoundError, OSError, ValueError):
        raise UploadGone(token) from None
    buyer = buyers_managed_by(user).filter(pk=meta["buyer"]).first()
    if buyer is None:
        raise UploadGone(token)  # the user no longer manages that buyer's POs
    return Upload(token, meta["filename"], buyer, data)


def discard_upload(*, user: User, token: str, keep_rejected: bool = False) -> None:
    folder = _folder(user, token)
    names = ["upload", "meta.json"] + ([] if keep_rejected else ["rejected.xlsx"])
    for name in names:
        if default_storage.exists(f"{folder}/{name}"):
            default_storage.delete(f"{folder}/{name}")


def rejected_file(*, user: User, token: str) -> bytes:
    try:
        with default_storage.open(f"{_folder(user, token)}/rejected.xlsx") as f:
            return f.read()
    except (FileNotFoundError, OSError):
        raise UploadGone(token) from None


def purge_stale_uploads(now=None) -> int:
    """Delete every upload file older than a day; returns how many files went. Run by the
    sweeper and on every new upload; safe beside another copy (a file already gone is
    skipped)."""
    cutoff = (now or timezone.now()) - UPLOAD_TTL
    removed = 0
    try:
        user_dirs = default_storage.listdir(UPLOAD_DIR)[0]
    except FileNotFoundError:
        return 0
    for user_dir in user_dirs:
        for folder in _subfolders(f"{UPLOAD_DIR}/{user_dir}"):
            for name in _files(folder):
                path = f"{folder}/{name}"
                try:
                    stale = default_storage.get_modified_time(path) < cutoff
                except FileNotFoundError:
                    continue
                if stale:
                    default_storage.delete(path)
                    removed += 1
    return removed


def _subfolders(path: str) -> list[str]:
    try:
        return [f"{path}/{name}" for name in default_storage.listdir(path)[0]]
    except FileNotFoundError:
        return []


def _files(path: str) -> list[str]:
    try:
        return default_storage.listdir(path)[1]
    except FileNotFoundError:
        return []


# --- what the file names, within the buyer -------------------------------------------------


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


class Lookups:
    """Suppliers, factories, products, agencies and QC leads the file may name: the buyer's,
    as far as the user's tenancy gate shows them. Read once for the whole file."""

    def __init__(self, user: User, buyer: Organisation):
        suppliers = list(for_user(Supplier, user).filter(buyer=buyer))
        self.supplier_by_code = {_key(s.code): s for s in suppliers}
        self.suppliers_by_name: dict[str, list[Supplier]] = {}
        for s in suppliers:
            self.suppliers_by_name.setdefault(_key(s.name), []).append(s)
        self.factories: dict[int, list[Factory]] = {}
        for f in for_user(Factory, user).filter(supplier__buyer=buyer):
            self.factories.setdefault(f.supplier_id, []).append(f)
        self.product_by_sku = {_key(p.sku): p for p in for_user(Product, user).filter(buyer=buyer)}
        agencies = for_user(Organisation, user).filter(
            kind=OrganisationKind.AGENCY, client_engagements__buyer=buyer
        )
        self.agency_by_name = {_key(a.name): a for a in agencies}
        leads = for_user(User, user).filter(membership_record__role=Role.QC_LEAD)
        self.leads = list(leads.select_related("membership_record"))
        self.market_by_name = {_key(name): code for code, name in markets().items()}
        self.codes = set(markets())

    def supplier(self, text: str) -> Supplier:
        found = self.supplier_by_code.get(_key(text))
        if found:
            return found
        named = self.suppliers_by_name.get(_key(text), [])
        if len(named) == 1:
            return named[0]
        if named:
            codes = ", ".join(s.code for s in named)
            raise ValueError(f"'{text}' names {len(named)} suppliers ({codes}): use the code")
        raise ValueError(f"No supplier with the code or name '{text}' in this buyer's supply base")

    def factory(self, supplier: Supplier, text: str) -> Factory:
        own = self.factories.get(supplier.pk, [])
        if not text:
            if len(own) == 1:
                return own[0]
            names = "; ".join(f.name for f in own) or "none registered"
            raise ValueError(f"Name the factory: {supplier.name} has {len(own)} ({names})")
        key = _key(text)
        for match in (
            lambda f: _key(f.name) == key,
            lambda f: _key(str(f)) == key,
            lambda f: _key(f.city) == key,
        ):
            hits = [f for f in own if match(f)]
            if len(hits) == 1:
                return hits[0]
        raise ValueError(f"'{text}' is not a factory of {supplier.name}")

    def product(self, sku: str) -> Product:
        found = self.product_by_sku.get(_key(sku))
        if found is None:
            raise ValueError(f"No product with the SKU '{sku}' in this buyer's catalogue")
        return found

    def agency(self, text: str) -> Organisation:
        found = self.agency_by_name.get(_key(text))
        if found is None:
            raise ValueError(f"'{text}' is not a QC agency serving this buyer")
        return found

    def agency_of(self, lead: User) -> Organisation | None:
        """The QC lead's agency, if it serves this buyer."""
        own = lead.membership_record.organisation_id
        return next((a for a in self.agency_by_name.values() if a.pk == own), None)

    def qc_lead(self, text: str, agency: Organisation | None) -> User:
        key = _key(text)
        hits = [
            u
            for u in self.leads
            if key in {_key(u.email), _key(u.full_name)}
            and (agency is None or u.membership_record.organisation_id == agency.pk)
        ]
        if len(hits) != 1:
            raise ValueError(f"'{text}' is not a QC lead of the PO's agency")
        return hits[0]

    def market(self, text: str) -> str:
        code = text.upper()
        if code in self.codes:
            return code
        key = _key(text)
        found = MARKET_ALIASES.get(key) or self.market_by_name.get(key)
        return found or code  # check_po says what is wrong with an unknown code


# --- validation ----------------------------------------------------------------------------


@dataclass
class Candidate:
    """One PO of the file: its draft (when everything it names was found) and its issues."""

    source: POInput
    draft: PODraft | None
    milestones: list[str] | None
    issues: list[Issue]

    @property
    def valid(self) -> bool:
        return not self.issues

    @property
    def quantity(self) -> int:
        return sum(line.quantity or 0 for line in self.source.lines)

    @property
    def supplier_text(self) -> str:
        """What the file says for the supplier (shown when it was not found)."""
        return str(self.source.values.get("supplier", ""))

    @property
    def factory_text(self) -> str:
        return str(self.source.values.get("factory", ""))


@dataclass
class Plan:
    """What importing the file would do, PO by PO."""

    table: Table
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def valid(self) -> list[Candidate]:
        return [c for c in self.candidates if c.valid]

    @property
    def invalid(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.valid]

    @property
    def issues(self) -> list[Issue]:
        return sorted((i for c in self.candidates for i in c.issues), key=lambda i: i.row)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted(row for c in self.invalid for row in c.source.rows)

    @property
    def line_count(self) -> int:
        return sum(len(c.source.lines) for c in self.candidates)


def validate(
    *, user: User, buyer: Organisation, table: Table, mapping: dict[str, int], options: Options
) -> Plan:
    """Every row checked: the file's own values, what they name, and the PO rules."""
    if not can_manage_for_buyer(user, buyer):
        raise PermissionDenied("You cannot enter POs for this buyer.")
    problems = importing.check_mapping(mapping, table)
    if problems:
        raise ValidationError({"mapping": problems})
    lookups = Lookups(user, buyer)
    default_agency = _own_agency(user)
    plan = Plan(table)
    for source in importing.read_pos(table, mapping, options):
        plan.candidates.append(_candidate(source, buyer, default_agency, lookups))
    return plan


def _own_agency(user: User) -> Organisation | None:
    membership = user.membership
    return membership.organisation if membership and membership.is_agency else None


def _candidate(source: POInput, buyer, default_agency, lookups: Lookups) -> Candidate:
    issues = list(source.issues)
    values = source.values

    def look(key: str, find, *args):
        try:
            return find(*args)
        except ValueError as error:
            issues.append(Issue(source.row_of(key), FIELD_BY_KEY[key].label, str(error)))
            return None

    supplier = (
        look("supplier", lookups.supplier, values["supplier"]) if "supplier" in values else None
    )
    factory = None
    if supplier is not None:
        factory = look("factory", lookups.factory, supplier, values.get("factory", ""))
    agency = default_agency
    if values.get("agency"):
        agency = look("agency", lookups.agency, values["agency"])
    lead = (
        look("qc_lead", lookups.qc_lead, values["qc_lead"], agency)
        if values.get("qc_lead")
        else None
    )
    if lead is not None and agency is None:
        agency = lookups.agency_of(lead)  # a QC lead named alone brings their agency
    lines = []
    for line in source.lines:
        product = None
        if line.sku:
            try:
                product = lookups.product(line.sku)
            except ValueError as error:
                issues.append(Issue(line.row, "SKU", str(error)))
        lines.append(LineDraft(product, line.quantity, line.variant))
    draft = PODraft(
        number=source.number,
        buyer=buyer,
        agency=agency,
        supplier=supplier,
        factory=factory,
        qc_lead=lead,
        lines=lines,
        **_plain_values(values, lookups),
    )
    said = {(i.row, i.field) for i in issues}
    if supplier is None and "supplier" in source.sources:
        said.add((source.row_of("factory"), "Factory"))  # no supplier: no factory to find
    for path, messages in check_po(draft).items():
        row, label = _where(path, source)
        if (row, label) in said:
            continue  # the cell's own problem is already on the list: say it once
        issues.extend(Issue(row, label, message) for message in messages)
    issues.sort(key=lambda i: i.row)
    return Candidate(source, draft, values.get("milestones"), issues)


PLAIN = [
    "currency",
    "fob_value",
    "unit",
    "carton_count",
    "production_start",
    "ex_factory_date",
    "ship_date",
    "retailer_compliance",
    "status",
    "notes",
    "new_material_or_tooling",
    "hero_sku",
    "complex_product",
]


def _plain_values(values: dict, lookups: Lookups) -> dict:
    """The file's values that go onto the draft as they are (fields this PODraft has)."""
    known = PODraft.__dataclass_fields__
    plain = {k: values[k] for k in PLAIN if k in values and k in known}
    if "unit" in plain:
        plain["unit"] = plain["unit"].lower()
    if "status" in plain:
        plain["status"] = plain["status"].lower()
    if "destination_market" in values:
        plain["destination_market"] = lookups.market(values["destination_market"])
    return plain


LINE_FIELDS = {"product": "SKU", "quantity": "Quantity", "variant": "Variant"}


def _where(path: str, source: POInput) -> tuple[int, str]:
    """The row and column a `check_po` message is about."""
    parts = path.split(".")
    if parts[0] == "lines" and len(parts) == 3 and int(parts[1]) < len(source.lines):
        return source.lines[int(parts[1])].row, LINE_FIELDS.get(parts[2], parts[2])
    if parts[0] == "lines":
        return source.first_row, "SKU"
    if path in FIELD_BY_KEY:
        return source.row_of(path), FIELD_BY_KEY[path].label
    return source.first_row, path.replace("_", " ").capitalize()


# --- the import ----------------------------------------------------------------------------


class ImportRefused(Exception):
    def __init__(self, issues: list[Issue]):
        super().__init__(f"{len(issues)} problems")
        self.issues = issues


@dataclass
class Result:
    created: list[PurchaseOrder]
    skipped: list[Candidate]
    rejected_xlsx: bytes | None


def import_plan(*, by: User, plan: Plan, skip_invalid: bool = False) -> Result:
    """Create the plan's POs in one transaction: all of them, or with `skip_invalid` the valid
    ones (the others come back, with an XLSX of their rows and why). A PO that turns invalid
    meanwhile (the same number entered by someone else) undoes the whole import."""
    if plan.invalid and not skip_invalid:
        raise ImportRefused(plan.issues)
    if not plan.valid:
        raise ImportRefused(plan.issues or [Issue(plan.table.header_row, "", "No PO to import.")])
    created = []
    try:
        with one_notice_per_qc_lead(), transaction.atomic():
            for candidate in plan.valid:
                created.append(
                    create_purchase_order(
                        by=by, draft=candidate.draft, milestone_kinds=candidate.milestones
                    )
                )
    except ValidationError as error:
        failing = plan.valid[len(created)]
        raise ImportRefused(
            [
                Issue(*_where(path, failing.source), message)
                for path, messages in error.message_dict.items()
                for message in messages
            ]
        ) from None
    skipped = plan.invalid
    return Result(created, skipped, rejected_rows_xlsx(plan) if skipped else None)


def rejected_rows_xlsx(plan: Plan) -> bytes:
    """The skipped rows as the file had them, with a last column saying what is wrong, so
    that they can be corrected and imported again."""
    table = plan.table
    messages: dict[int, list[str]] = {}
    for candidate in plan.invalid:
        for issue in candidate.issues:
            messages.setdefault(issue.row, []).append(
                f"{issue.field}: {issue.message}" if issue.field else issue.message
            )
        for row in candidate.source.rows:
            if row not in messages:
                where = candidate.issues[0].row
                messages[row] = [f"Skipped with PO {candidate.source.number}: see row {where}."]
    rejected = set(plan.rejected_rows)
    book = Workbook()
    sheet = book.active
    sheet.title = "Rejected rows"
    sheet.append([*table.headers, "Source row", "Errors"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, cells in table.rows:
        if number in rejected:
            cells = (list(cells) + [None] * len(table.headers))[: len(table.headers)]
            sheet.append([*map(importing.safe_cell, cells), number, "; ".join(messages[number])])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def keep_rejected(*, user: User, token: str, data: bytes) -> None:
    path = f"{_folder(user, token)}/rejected.xlsx"
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(data))


# --- export --------------------------------------------------------------------------------


def export_xlsx(orders) -> bytes:
    """POs as one row per line, in the column shape the importer reads (`EXPORT_HEADERS`):
    an export imports back as it is."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Purchase orders")
    sheet.append(importing.EXPORT_HEADERS)
    orders = orders.select_related("supplier", "factory", "agency", "qc_lead").prefetch_related(
        "lines__product", "milestones"
    )
    for po in orders:
        for line in po.lines.all():
            sheet.append([importing.safe_cell(v) for v in _export_row(po, line)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _export_row(po: PurchaseOrder, line) -> list:
    from qcloop.inspections.models import MilestoneStatus

    kinds = {m.kind for m in po.milestones.all() if m.status != MilestoneStatus.CANCELLED}
    values = {
        "number": po.number,
        "supplier": po.supplier.code,
        "factory": po.factory.name,
        "agency": po.agency.name if po.agency else None,
        "qc_lead": po.qc_lead.email if po.qc_lead else None,
        "fob_value": po.fob_value,
        "milestones": ", ".join(k for k in importing.MILESTONE_KINDS if k in kinds) or None,
        "sku": line.product.sku,
        "variant": line.variant or None,
        "quantity": line.quantity,
    }
    for key in FIELD_BY_KEY:
        if key not in values:
            value = getattr(po, key, None)
            values[key] = "yes" if value is True else ("no" if value is False else value or None)
    return [values[f.key] for f in importing.FIELDS]


# --- the API's one-call import -------------------------------------------------------------


def import_buyer(user: User, buyer_id: int | None) -> Organisation:
    """The buyer an API import is for: the one named (as far as the user may see it), or the
    only one the user enters POs for."""
    if buyer_id is None:
        managed = list(buyers_managed_by(user)[:2])
        if not managed:
            raise PermissionDenied("Only buyer managers and agency coordinators enter POs.")
        if len(managed) > 1:
            raise ValidationError({"buyer": "You enter POs for several buyers: name the buyer."})
        return managed[0]
    buyer = for_user(Organisation, user).filter(pk=buyer_id).first()
    if buyer is None:
        raise ValidationError({"buyer": f"No buyer with id {buyer_id}."})
    return buyer


def import_file(
    *,
    by: User,
    buyer: Organisation,
    data: bytes,
    filename: str,
    titles: dict[str, str],
    options: Options,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> tuple[Plan, Result | None]:
    """Read, check and (unless `dry_run`) import a file in one call; the mapping is guessed
    from the column titles, `titles` overriding fields by title. A refusal is a
    ValidationError on `file` listing every row's problem."""
    try:
        table = importing.read_table(data, filename)
    except importing.ImportFileError as error:
        raise ValidationError({"file": str(error)}) from None
    try:
        mapping = importing.mapping_by_titles(table.headers, titles)
    except ValueError as error:
        raise ValidationError({"mapping": str(error)}) from None
    plan = validate(user=by, buyer=buyer, table=table, mapping=mapping, options=options)
    if dry_run:
        return plan, None
    try:
        return plan, import_plan(by=by, plan=plan, skip_invalid=skip_invalid)
    except ImportRefused as refused:
        raise ValidationError({"file": [str(issue) for issue in refused.issues]}) from None
