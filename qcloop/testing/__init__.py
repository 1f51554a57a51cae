"""Builders for tests: a whole tenant ("world") made through the real services."""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from qcloop.accounts.models import Organisation, OrganisationKind, Role, User
from qcloop.accounts.services import add_member, create_organisation, engage_agency
from qcloop.inspections.models import Milestone
from qcloop.orders.models import Factory, Product, PurchaseOrder, Supplier
from qcloop.orders.services import (
    LineDraft,
    PODraft,
    create_purchase_order,
    save_factory,
    save_product,
    save_supplier,
)

PASSWORD = "correct-horse-battery-staple"

ROLE_ORG = {
    Role.BUYER_VIEWER: "buyer",
    Role.BUYER_MANAGER: "buyer",
    Role.COORDINATOR: "agency",
    Role.QC_LEAD: "agency",
    Role.INSPECTOR: "agency",
    Role.SUPPLIER_USER: "supplier_org",
}


@dataclass
class World:
    tag: str
    buyer: Organisation
    agency: Organisation
    supplier_org: Organisation
    users: dict[str, User]  # role value -> user; "admin" is the agency's admin
    supplier: Supplier
    factory: Factory
    product: Product
    po: PurchaseOrder | None
    milestones: dict[str, Milestone]  # kind -> milestone

    def user(self, role: str) -> User:
        return self.users[role]

    @property
    def inspector(self) -> User:
        return self.users[Role.INSPECTOR]

    @property
    def qc_lead(self) -> User:
        return self.users[Role.QC_LEAD]


def build_world(tag: str) -> World:
    """A buyer served by an agency, a supplier with a factory and a product, a PO with its four
    milestones whose DUPRO is assigned to the world's inspector, and one user per role."""
    buyer = create_organisation(
        name=f"Buyer {tag.upper()} Ltd", kind=OrganisationKind.BUYER, country="US"
    )
    agency = create_organisation(
        name=f"Agency {tag.upper()} QC",
        kind=OrganisationKind.AGENCY,
        country="HK",
        timezone="Asia/Hong_Kong",
    )
    supplier_org = create_organisation(
        name=f"Supplier {tag.upper()} Co",
        kind=OrganisationKind.SUPPLIER,
        country="CN",
        timezone="Asia/Shanghai",
    )
    engage_agency(agency=agency, buyer=buyer)
    orgs = {"buyer": buyer, "agency": agency, "supplier_org": supplier_org}
    users = {
        role.value: add_member(
            organisation=orgs[org_key],
            email=f"{role.value}.{tag}@example.com",
            full_name=f"{role.label} {tag.upper()}",
            role=role,
            password=PASSWORD,
        )
        for role, org_key in ROLE_ORG.items()
    }
    users[Role.ADMIN.value] = add_member(
        organisation=agency,
        email=f"admin.{tag}@example.com",
        full_name=f"Admin {tag.upper()}",
        role=Role.ADMIN,
        password=PASSWORD,
    )
    manager = users[Role.BUYER_MANAGER]
    supplier = save_supplier(
        by=manager,
        supplier=Supplier(
            buyer=buyer,
            organisation=supplier_org,
            code=f"V-{tag.upper()}01",
            name=f"Supplier {tag.upper()} Co",
            country="CN",
        ),
    )
    factory = save_factory(
        by=manager,
        factory=Factory(
            supplier=supplier,
            name=f"Plant {tag.upper()}",
            address="1 Industrial Rd",
            city="Zhongshan",
            region="Guangdong",
            country="CN",
            cluster="Guzhen lighting",
            latitude=Decimal("22.611"),
            longitude=Decimal("113.190"),
            timezone="Asia/Shanghai",
        ),
    )
    product = save_product(
        by=manager,
        product=Product(
            buyer=buyer,
            sku=f"SKU-{tag.upper()}-1",
            name=f"Desk lamp {tag.upper()}",
            category="lighting",
            target_markets=["US"],
            compliance_regimes=["UL", "FCC"],
        ),
    )
    world = World(tag, buyer, agency, supplier_org, users, supplier, factory, product, None, {})
    return _with_po(world, f"PO-{tag.upper()}-1001")


def next_po_of(world: World) -> World:
    """The same buyer, agency and supplier with one more PO: its own four milestones, the DUPRO
    assigned to the world's inspector."""
    return _with_po(
        world, f"PO-{world.tag.upper()}-{1001 + world.buyer.purchase_orders_as_buyer.count()}"
    )


def _with_po(world: World, number: str) -> World:
    start = date.today() + timedelta(days=10)
    po = create_purchase_order(
        by=world.users[Role.BUYER_MANAGER],
        draft=PODraft(
            number=number,
            buyer=world.buyer,
            agency=world.agency,
            supplier=world.supplier,
            factory=world.factory,
            qc_lead=world.users[Role.QC_LEAD],
            currency="USD",
            fob_value=Decimal("48250.00"),
            carton_count=250,
            production_start=start,
            ex_factory_date=start + timedelta(days=40),
            ship_date=start + timedelta(days=45),
            destination_market="US",
            lines=[LineDraft(world.product, 3000)],
        ),
    )
    milestones = {m.kind: m for m in po.milestones.all()}
    Milestone.objects.filter(pk=milestones["DUPRO"].pk).update(inspector=world.inspector)
    milestones["DUPRO"].refresh_from_db()
    return replace(world, po=po, milestones=milestones)


def start_inspection(
    world: World, kind: str, plan_sample: bool = True, start: bool = True, **sampling
):
    """Book the world's milestone for its window's first day with the world's inspector, plan
    its sample (DUPRO and PSI; 3000 units: code K, 125 units) and start it as the inspector
    (unless `start` is false: booked, as a phone downloads it before the visit)."""
    from qcloop.inspections.services import plan_sampling, transition_milestone, update_milestone

    milestone = world.milestones[kind]
    update_milestone(
        by=world.qc_lead,
        milestone=milestone,
        changes={
            "inspection_date": milestone.window_start,
            "inspector": world.inspector,
            "status": "booked",
        },
    )
    if plan_sample and kind in {"DUPRO", "PSI"}:
        plan_sampling(by=world.qc_lead, milestone=milestone, seed="t", **sampling)
    if start:
        transition_milestone(by=world.inspector, milestone=milestone, to="in_progress")
    milestone.refresh_from_db()
    return milestone


def submit_inspection_of(world: World, kind: str, defects=(), photos=()):
    """Start the world's milestone, answer its checklist (all pass), count production,
    record `defects` ((class, quantity, description), ...) and `photos` ((bytes, caption) or
    (bytes, caption, True) for evidence of the first defect, (bytes, caption, n) of the n-th),
    and submit it as the inspector: the report is then waiting for the QC lead."""
    from qcloop.inspections.photos import ingest, upload_photo
    from qcloop.inspections.recording import (
        answer_check,
        record_defect,
        record_loading,
        record_production,
        submit_inspection,
    )

    milestone = start_inspection(world, kind)
    for item in milestone.checklist.items if milestone.checklist else []:
        value = "1" if item["answer"] == "number" else ""
        answer_check(
            by=world.inspector,
            milestone=milestone,
            item_code=item["code"],
            result="pass",
            value=value,
        )
    if kind == "CLI":
        record_loading(
            by=world.inspector,
            milestone=milestone,
            container_number="MSKU1234565",
            seal_number="SEAL-1",
            loaded={},
        )
    else:
        record_production(
            by=world.inspector,
            milestone=milestone,
            counted_on=milestone.window_start,
            produced={"IPC": 200, "DUPRO": 1300}.get(kind, 3000),
            finished={"IPC": 100, "DUPRO": 1000}.get(kind, 3000),
            packed=3000 if kind == "PSI" else 0,
        )
    recorded = [
        record_defect(
            by=world.inspector,
            milestone=milestone,
            quantity=quantity,
            description=description,
            defect_class=defect_class,
        )
        for defect_class, quantity, description in defects
    ]
    for data, caption, *of_defect in photos:
        attachment = upload_photo(
            by=world.inspector,
            milestone=milestone,
            data=data,
            name="IMG.jpg",
            caption=caption,
            defect=_evidence_of(recorded, *of_defect),
        )
        ingest(attachment.pk)
    return submit_inspection(by=world.inspector, milestone=milestone)


def _evidence_of(recorded: list, which=None):
    if which is None or which is False:
        return None
    return recorded[0 if which is True else which]
