"""Reads of reports through their tenancy gates.

The agency sees its reports from the first submission on (an inspector those of the milestones
assigned to them); the buyer only published ones; the supplier only published ones, and only
when the buyer shares its reports with suppliers. Recipients are the buyer's own list."""

from django.db.models import Q, QuerySet

from qcloop.accounts.models import Organisation, Role
from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder

from .models import Delivery, Report, ReportRecipient, ReportVersion, ReviewNote


@gate(Report)
def reports(user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return Report.objects.none()
    visible_orders = for_user(PurchaseOrder, user).values("pk")
    scoped = Report.objects.filter(po__in=visible_orders)
    if membership.is_agency:
        # The agency's staff see every milestone of its POs; an inspector only those they
        # are assigned (as the milestone gate has it), and the PO summaries.
        if membership.role != Role.INSPECTOR:
            return scoped
        return scoped.filter(Q(kind="po_summary") | Q(milestone__inspector=user))
    published = scoped.filter(published_at__isnull=False)
    if membership.is_buyer:
        return published
    return published.filter(po__buyer__shares_reports_with_suppliers=True)


def is_reviewer(user, report: Report) -> bool:
    """The PO's QC lead reviews, publishes and corrects its reports."""
    return report.po.qc_lead_id == user.pk


@gate(ReportVersion)
def report_versions(user) -> QuerySet:
    return ReportVersion.objects.filter(report__in=for_user(Report, user).values("pk"))


@gate(ReviewNote)
def review_notes(user) -> QuerySet:
    """The review is the agency's conversation: buyers and suppliers see the result."""
    membership = user.membership
    if membership is None or not membership.is_agency:
        return ReviewNote.objects.none()
    return ReviewNote.objects.filter(report__in=for_user(Report, user).values("pk"))


def sees_deliveries(user) -> bool:
    """Who was mailed a report is the buyer's and the agency's business, not the supplier's."""
    membership = user.membership
    return membership is not None and not membership.is_supplier


@gate(Delivery)
def deliveries(user) -> QuerySet:
    if not sees_deliveries(user):
        return Delivery.objects.none()
    return Delivery.objects.filter(version__in=for_user(ReportVersion, user).values("pk"))


@gate(ReportRecipient)
def report_recipients(user) -> QuerySet:
    membership = user.membership
    if membership is None or not membership.is_buyer:
        return ReportRecipient.objects.none()
    return ReportRecipient.objects.filter(buyer=membership.organisation)


def recipients_of(buyer: Organisation) -> list[tuple[str, str, bool]]:
    """Who gets the buyer's published reports: its list, or else its own people.
    (email, name, attach the PDF)."""
    listed = [(r.email, r.name, r.attach_pdf) for r in buyer.report_recipients.all()]
    if listed:
        return listed
    people = buyer.memberships.select_related("user").filter(user__is_active=True)
    return [(m.user.email, m.user.full_name, True) for m in people]
