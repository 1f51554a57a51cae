"""Reads of milestones through their tenancy gate: those of the POs the user can see, and for
an inspector only the milestones assigned to them."""

from django.db.models import Q, QuerySet

from qcloop.accounts.models import Role
from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder, Supplier

from .models import (
    CartonCheck,
    CheckAnswer,
    ChecklistTemplate,
    ChecklistVersion,
    Defect,
    DefectClassOverride,
    DefectCode,
    LabTest,
    LoadedCartons,
    LoadingRecord,
    MeasurementChart,
    MeasurementReading,
    Milestone,
    Photo,
    PhotoAttachment,
    ProductionStatus,
    RecordStamp,
    SwitchingStream,
)


@gate(Milestone)
def milestones(user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return Milestone.objects.none()
    visible = Milestone.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))
    if membership.is_agency and membership.role == Role.INSPECTOR:
        return visible.filter(inspector=user)
    return visible


@gate(SwitchingStream)
def switching_streams(user) -> QuerySet:
    """A supplier's switching history is seen by whoever sees the supplier."""
    return SwitchingStream.objects.filter(supplier__in=for_user(Supplier, user).values("pk"))


def switching_overview(user, supplier) -> list[dict]:
    """The supplier's streams as they stand: severity and why, for pages and reports."""
    from qcloop.sampling import SwitchingState

    rows = []
    for stream in for_user(SwitchingStream, user).filter(supplier=supplier):
        state = SwitchingState.from_dict(stream.state) if stream.state else SwitchingState.start()
        rows.append(
            {"stream": stream, "severity": state.severity, "explanation": state.explanation}
        )
    return rows


# --- what inspectors record: seen by whoever sees the milestone -----------------------------


def _of_visible_milestones(model):
    def scope(user) -> QuerySet:
        return model.objects.filter(milestone__in=for_user(Milestone, user).values("pk"))

    scope.__doc__ = f"{model.__name__} of the milestones the user can see."
    return scope


for _model in (
    CheckAnswer,
    Defect,
    MeasurementReading,
    ProductionStatus,
    CartonCheck,
    LoadingRecord,
    LoadedCartons,
    RecordStamp,
):
    gate(_model)(_of_visible_milestones(_model))


@gate(ChecklistTemplate)
def checklist_templates(user) -> QuerySet:
    """An agency's own checklists, for its staff (inspectors get the version pinned on their
    milestones)."""
    from qcloop.accounts.selectors import is_agency_staff

    membership = user.membership
    if membership is None or not is_agency_staff(user):
        return ChecklistTemplate.objects.none()
    return ChecklistTemplate.objects.filter(agency=membership.organisation)


@gate(ChecklistVersion)
def checklist_versions(user) -> QuerySet:
    """Versions of the agency's checklists, and those pinned by milestones the user sees."""
    pinned = for_user(Milestone, user).values("checklist")
    return ChecklistVersion.objects.filter(
        Q(template__in=for_user(ChecklistTemplate, user).values("pk")) | Q(pk__in=pinned)
    )


@gate(DefectCode)
def defect_codes(user) -> QuerySet:
    """qcloop's shipped library, plus the user's agency's own codes."""
    membership = user.membership
    if membership is None:
        return DefectCode.objects.none()
    own = Q(agency=membership.organisation) if membership.is_agency else Q(pk__in=[])
    return DefectCode.objects.filter(Q(agency__isnull=True) | own)


@gate(DefectClassOverride)
def defect_class_overrides(user) -> QuerySet:
    """A buyer's overrides, seen by the buyer and by the agencies serving it."""
    from qcloop.accounts.selectors import engaged_buyers

    membership = user.membership
    if membership is None or membership.is_supplier:
        return DefectClassOverride.objects.none()
    org = membership.organisation
    return DefectClassOverride.objects.filter(Q(buyer=org) | Q(buyer__in=engaged_buyers(org)))


@gate(MeasurementChart)
def measurement_charts(user) -> QuerySet:
    from qcloop.orders.models import Product

    return MeasurementChart.objects.filter(product__in=for_user(Product, user).values("pk"))


@gate(PhotoAttachment)
def photo_attachments(user) -> QuerySet:
    """The agency sees its inspections' photos as they come in; the buyer sees them once the
    milestone is published; the supplier too, but only when the buyer shares its reports with
    suppliers (the photos are the reports' evidence, and the same choice covers both)."""
    return _findings_of_visible_milestones(PhotoAttachment, user)


def _findings_of_visible_milestones(model, user) -> QuerySet:
    """A milestone's findings: all of them to the agency; once published, to the buyer, and
    to the supplier where the buyer shares its reports with suppliers."""
    membership = user.membership
    visible = model.objects.filter(milestone__in=for_user(Milestone, user).values("pk"))
    if membership is not None and membership.is_agency:
        return visible
    published = visible.filter(milestone__status="published")
    if membership is not None and membership.is_supplier:
        return published.filter(milestone__po__buyer__shares_reports_with_suppliers=True)
    return published


@gate(Photo)
def photos(user) -> QuerySet:
    return Photo.objects.filter(pk__in=for_user(PhotoAttachment, user).values("photo"))


@gate(LabTest)
def lab_tests(user) -> QuerySet:
    """Lab tests are findings: the agency sees them as they are arranged and reported; the
    buyer once the milestone is published; the supplier too, when the buyer shares its
    reports with suppliers (the certificate is the report's evidence, like its photos)."""
    return _findings_of_visible_milestones(LabTest, user)
