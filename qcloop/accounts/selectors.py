"""Reads of people and organisations, each through its tenancy gate."""

from django.db.models import Q, QuerySet

from qcloop.core.tenancy import for_user, gate

from .models import (
    ApiToken,
    Engagement,
    LoginFailure,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)

AGENCY_STAFF_ROLES = {Role.COORDINATOR, Role.QC_LEAD, Role.ADMIN}


def engaged_buyers(organisation: Organisation) -> QuerySet:
    """The buyers that an agency serves (an empty set for anyone else)."""
    return Organisation.objects.filter(agency_engagements__agency=organisation)


def is_agency_staff(user) -> bool:
    """Coordinators, QC leads and admins of an agency: they work across its clients' POs.
    Inspectors see only what they are assigned to."""
    membership = user.membership
    return bool(membership and membership.is_agency and membership.role in AGENCY_STAFF_ROLES)


@gate(Organisation)
def organisations(user) -> QuerySet:
    from qcloop.orders.models import PurchaseOrder, Supplier

    membership = user.membership
    if membership is None:
        return Organisation.objects.none()
    org = membership.organisation
    orders = for_user(PurchaseOrder, user)
    partners = Engagement.objects.filter(Q(agency=org) | Q(buyer=org))
    return Organisation.objects.filter(
        Q(pk=org.pk)
        | Q(pk__in=partners.values("agency"))
        | Q(pk__in=partners.values("buyer"))
        | Q(pk__in=orders.values("buyer"))
        | Q(pk__in=orders.values("agency"))
        | Q(pk__in=orders.values("supplier__organisation"))
        | Q(pk__in=for_user(Supplier, user).values("organisation"))
    )


@gate(User)
def users(user) -> QuerySet:
    """Colleagues, and the people accountable for the POs the user can see."""
    from qcloop.inspections.models import Milestone
    from qcloop.orders.models import PurchaseOrder

    membership = user.membership
    if membership is None:
        return User.objects.filter(pk=user.pk)
    org = membership.organisation
    orders = for_user(PurchaseOrder, user)
    partners = Engagement.objects.filter(Q(agency=org) | Q(buyer=org))
    # An engaged buyer may name any of the agency's QC leads on a new PO, so it sees the
    # agency's staff; the agency likewise sees its client's people.
    partner_staff = Q(membership_record__organisation__in=partners.values("agency")) | Q(
        membership_record__organisation__in=partners.values("buyer")
    )
    if membership.is_supplier:
        partner_staff = Q(pk__in=[])
    return User.objects.filter(
        Q(pk=user.pk)
        | partner_staff
        | Q(membership_record__organisation=org)
        | Q(pk__in=orders.values("qc_lead"))
        | Q(pk__in=for_user(Milestone, user).values("inspector"))
    )


@gate(Membership)
def memberships(user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return Membership.objects.none()
    return Membership.objects.filter(organisation=membership.organisation)


@gate(Engagement)
def engagements(user) -> QuerySet:
    membership = user.membership
    if membership is None or membership.kind == OrganisationKind.SUPPLIER:
        return Engagement.objects.none()
    org = membership.organisation
    return Engagement.objects.filter(Q(agency=org) | Q(buyer=org))


@gate(ApiToken)
def api_tokens(user) -> QuerySet:
    return ApiToken.objects.filter(user=user)


@gate(LoginFailure)
def login_failures(user) -> QuerySet:
    """The failed sign-ins on one's own account: its owner may be told of them, nobody else."""
    return LoginFailure.objects.filter(email=user.email.strip().lower())
