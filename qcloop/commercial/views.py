"""Pages: the PO's quote (separate, bundled, retainer side by side) and the agency's fee
schedules and retainers. Reads through the gates; changes through the services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.accounts.models import Organisation, OrganisationKind
from qcloop.core.tenancy import for_user, get_for_user

from . import pricing, selectors, services
from .models import FeeSchedule, Quote, Retainer, RetainerPlan
from .services import SCHEDULE_DECIMALS, SCHEDULE_INTEGERS


def _chosen_milestones(request, recommended) -> list[str]:
    chosen = request.POST.getlist("milestones") or request.GET.getlist("milestones")
    return [kind for kind in chosen if kind in pricing.MILESTONES] or list(recommended)


@login_required
def po_quote(request, pk: int):
    """GET: the recommendation and the live figures; POST: issue the quote shown."""
    po = selectors.commercial_po(request.user, pk)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            quote = services.issue_quote(
                by=request.user, po=po, milestones=request.POST.getlist("milestones") or None
            )
        except ValidationError as error:
            errors, status = error.message_dict, 422
        else:
            messages.success(request, f"Quote {quote.reference} issued.")
            return redirect("commercial:po_quote", pk=po.pk)
    recommendation = services.recommend_service(by=request.user, po=po)
    chosen = _chosen_milestones(request, recommendation.milestones)
    table, schedule = selectors.fee_table_for(po)
    context = {
        "po": po,
        "recommendation": recommendation,
        "figures": services.quote_figures(po, chosen, table),
        "schedule": schedule,
        "chosen": chosen,
        "all_milestones": pricing.MILESTONES,
        "quotes": for_user(Quote, request.user).filter(po=po).select_related("issued_by"),
        "can_issue": services.can_issue_quote(request.user, po),
        "can_accept": services.can_accept_quote_for(request.user, po),
        "errors": errors,
    }
    return render(request, "commercial/po_quote.html", context, status=status)


@login_required
@require_POST
def quote_accept(request, pk: int):
    quote = get_for_user(Quote, request.user, pk=pk)
    try:
        services.accept_quote(by=request.user, quote=quote, option=request.POST.get("option", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Quote {quote.reference} accepted.")
    return redirect("commercial:po_quote", pk=quote.po_id)


def _schedule_rows(user, agency, posted=None, errors=None):
    rows = []
    for schedule in for_user(FeeSchedule, user).order_by("country"):
        is_posted = posted is not None and posted.get("schedule") == str(schedule.pk)
        values = posted if is_posted else _values_of(schedule)
        rows.append({"schedule": schedule, "fields": _fields(values, errors if is_posted else {})})
    is_new = posted is not None and not posted.get("schedule")
    values = posted if is_new else _values_of(FeeSchedule(agency=agency))
    rows.append({"schedule": None, "fields": _fields(values, errors if is_new else {})})
    return rows


SCHEDULE_FIELDS = {
    "country": "Factory country (blank: default)",
    "currency": "Currency",
    **{name: label[0].upper() + label[1:] for name, label in SCHEDULE_DECIMALS.items()},
    **{name: label[0].upper() + label[1:] for name, label in SCHEDULE_INTEGERS.items()},
    "exchange_rates": "Exchange rates (EUR=1.08, ...)",
}


def _fields(values: dict, errors: dict) -> list[dict]:
    return [
        {"name": name, "label": label, "value": values.get(name, ""), "error": errors.get(name)}
        for name, label in SCHEDULE_FIELDS.items()
    ]


def _values_of(schedule: FeeSchedule) -> dict:
    names = [*SCHEDULE_DECIMALS, *SCHEDULE_INTEGERS]
    values = {name: getattr(schedule, name) for name in names}
    rates = ", ".join(f"{code}={rate}" for code, rate in (schedule.exchange_rates or {}).items())
    return values | {
        "country": schedule.country,
        "currency": schedule.currency,
        "exchange_rates": rates,
    }


@login_required
def fee_schedules(request):
    """The agency's fees per factory country, and its retainer clients."""
    membership = request.user.membership
    agency = membership.organisation if membership and membership.is_agency else None
    if not services.can_edit_fees(request.user, agency):
        raise PermissionDenied("Only an agency's coordinators and admins set its fees.")
    posted, errors, retainer_errors, status = None, {}, {}, 200
    if request.method == "POST":
        posted = request.POST.dict()
        try:
            if posted.get("form") == "retainer":
                _save_retainer(request, agency, posted)
            else:
                _save_schedule(request, agency, posted)
        except ValidationError as error:
            bad = {name: " ".join(msgs) for name, msgs in error.message_dict.items()}
            if posted.get("form") == "retainer":
                retainer_errors = bad
            else:
                errors = bad
            status = 422
        else:
            return redirect("commercial:fee_schedules")
    buyers = for_user(Organisation, request.user).filter(
        kind=OrganisationKind.BUYER, agency_engagements__agency=agency
    )
    context = {
        "rows": _schedule_rows(request.user, agency, posted, errors),
        "retainers": for_user(Retainer, request.user).select_related("buyer"),
        "buyers": buyers,
        "plans": RetainerPlan.choices,
        "retainer_values": posted if posted and posted.get("form") == "retainer" else {},
        "retainer_errors": retainer_errors,
        "failed": status == 422,
    }
    return render(request, "commercial/fee_schedules.html", context, status=status)


def _save_schedule(request, agency, posted):
    schedule = None
    if posted.get("schedule"):
        schedule = get_for_user(FeeSchedule, request.user, pk=posted["schedule"])
    saved = services.save_fee_schedule(
        by=request.user, agency=agency, values=posted, schedule=schedule
    )
    messages.success(request, f"Fees for {saved.country or 'the default'} saved.")


def _save_retainer(request, agency, posted):
    buyer = (
        for_user(Organisation, request.user)
        .filter(kind=OrganisationKind.BUYER, pk=posted.get("buyer") or 0)
        .first()
    )
    if buyer is None:
        raise ValidationError({"buyer": "Choose one of the agency's buyers."})
    values = posted | {"active": posted.get("active", "")}
    saved = services.save_retainer(by=request.user, agency=agency, buyer=buyer, values=values)
    messages.success(request, f"Retainer of {saved.buyer} saved.")
