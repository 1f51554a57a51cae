"""Pages: the PO's schedule (progress form, booking form, log), the inspector calendar for the
agency's coordinators, the user's calendar feeds and the feeds themselves (token, no login)."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from qcloop.accounts.models import User
from qcloop.accounts.selectors import is_agency_staff
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.models import Milestone
from qcloop.orders.models import PurchaseOrder

from . import feeds, selectors, services
from .models import CalendarFeed, DayOff, FeedKind, ProgressReport


def _errors(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _day(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError({field: "Give the date as YYYY-MM-DD."}) from None


def _count(value: str | None, field: str) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        raise ValidationError({field: f"Give {field} as a whole number of units."}) from None


def schedule_context(user, po: PurchaseOrder) -> dict:
    """What the PO's schedule partial and page show."""
    projected = services.project_po(po)
    bookable = for_user(Milestone, user).filter(po=po, status__in=["planned", "booked"])
    is_coordinator = services.is_coordinator(user, po)
    return {
        "po": po,
        "projected": projected,
        "placements": [projected.placements.get(k) for k in ("IPC", "DUPRO", "PSI", "CLI")],
        "warning": selectors.visible_warning(user, po),
        "log": selectors.schedule_log(user, po),
        "reports": list(for_user(ProgressReport, user).filter(po=po)),
        "may_report": services.may_report_progress(user, po),
        "may_book": services.inspections.is_agency_planner(user, po),
        "is_coordinator": is_coordinator,
        "bookable": list(bookable),
        "inspectors": list(selectors.agency_inspectors(user)) if is_agency_staff(user) else [],
        "qc_leads": list(selectors.agency_qc_leads(po)) if is_coordinator else [],
        "lead_hours": selectors.terms_of(po.agency_id).booking_lead_hours,
        "factory_today": services.factory_today(po),
    }


@login_required
@require_GET
def po_schedule(request, pk: int):
    po = get_for_user(PurchaseOrder, request.user, pk=pk)
    return render(request, "scheduling/po_schedule.html", schedule_context(request.user, po))


def _refused(request, po, error, posted, milestone=None) -> HttpResponse:
    """The page again with the errors, the form as it was sent (a booking form: its
    milestone's)."""
    context = schedule_context(request.user, po) | {
        "errors": _errors(error),
        "posted": posted,
        "posted_pk": milestone.pk if milestone else None,
    }
    return render(request, "scheduling/po_schedule.html", context, status=422)


@login_required
@require_POST
def report_progress(request, pk: int):
    po = get_for_user(PurchaseOrder, request.user, pk=pk)
    posted = request.POST
    try:
        services.record_progress(
            by=request.user,
            po=po,
            reported_on=_day(posted.get("reported_on"), "reported_on"),
            produced=_count(posted.get("produced"), "produced"),
            packed=_count(posted.get("packed") or "0", "packed"),
            note=posted.get("note", ""),
        )
    except PermissionDenied as error:
        return _refused(request, po, ValidationError(str(error)), posted)
    except ValidationError as error:
        return _refused(request, po, error, posted)
    messages.success(request, "Progress recorded; the schedule follows it.")
    return redirect("scheduling:po_schedule", pk=po.pk)


@login_required
@require_POST
def book(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    posted = request.POST
    try:
        inspector = get_for_user(User, request.user, pk=posted.get("inspector") or 0)
    except Http404:
        error = ValidationError({"inspector": "Choose an inspector."})
        return _refused(request, milestone.po, error, posted, milestone)
    try:
        booking = services.book_milestone(
            by=request.user,
            milestone=milestone,
            inspector=inspector,
            day=_day(posted.get("day"), "day"),
            override_reason=posted.get("override_reason", ""),
        )
    except PermissionDenied as error:
        return _refused(request, milestone.po, ValidationError(str(error)), posted, milestone)
    except ValidationError as error:
        return _refused(request, milestone.po, error, posted, milestone)
    messages.success(
        request, f"{milestone.label} booked with {inspector} on {booking.day:%d %b %Y}."
    )
    return redirect("scheduling:po_schedule", pk=milestone.po_id)


@login_required
@require_POST
def reassign_lead(request, pk: int):
    """A coordinator hands the PO, all its milestones, to another QC lead, with a reason."""
    po = get_for_user(PurchaseOrder, request.user, pk=pk)
    posted = request.POST
    try:
        lead = selectors.agency_qc_leads(po).filter(pk=_count(posted.get("qc_lead"), "qc_lead"))
        if not lead.exists():
            raise ValidationError({"qc_lead": "Choose one of the agency's QC leads."})
        po = services.reassign_qc_lead(
            by=request.user, po=po, lead=lead.get(), reason=posted.get("reason", "")
        )
    except PermissionDenied as error:
        return _refused(request, po, ValidationError(str(error)), posted)
    except ValidationError as error:
        return _refused(request, po, error, posted)
    messages.success(request, f"{po.qc_lead} is now the QC lead of every milestone of the PO.")
    return redirect("scheduling:po_schedule", pk=po.pk)


def _month(value: str | None) -> date:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return date.today().replace(day=1)


def _shift(first: date, months: int) -> str:
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@login_required
def calendar(request):
    """The month grid of the agency's inspectors: capacity, bookings, days off."""
    first = _month(request.GET.get("month"))
    inspectors = list(selectors.agency_inspectors(request.user))
    chosen = request.GET.get("inspector")
    if chosen:
        inspectors = [i for i in inspectors if str(i.pk) == chosen] or inspectors
    context = {
        "grid": selectors.month_grid(request.user, first, inspectors),
        "all_inspectors": list(selectors.agency_inspectors(request.user)),
        "chosen": chosen or "",
        "previous": _shift(first, -1),
        "next": _shift(first, 1),
        "month": f"{first:%Y-%m}",
        "is_staff": is_agency_staff(request.user),
        "terms": selectors.terms_of(
            request.user.membership.organisation_id if request.user.membership else None
        ),
        "days_off": for_user(DayOff, request.user)
        .filter(day__gte=first)
        .select_related("inspector")[:50],
    }
    return render(request, "scheduling/calendar.html", context)


@login_required
@require_POST
def calendar_change(request):
    """A coordinator's change to the calendar: a day off, an inspector's capacity, the terms."""
    posted, user = request.POST, request.user
    back = reverse("scheduling:calendar") + f"?month={posted.get('month', '')}"
    try:
        action = posted.get("action")
        if action == "terms":
            services.save_terms(
                by=user,
                booking_lead_hours=_count(posted.get("booking_lead_hours"), "booking_lead_hours"),
                inspections_per_day=_count(
                    posted.get("inspections_per_day"), "inspections_per_day"
                ),
            )
        elif action == "remove_day_off":
            day_off = get_for_user(DayOff, user, pk=posted.get("day_off") or 0)
            services.remove_day_off(by=user, day_off=day_off)
        else:
            inspector = get_for_user(User, user, pk=posted.get("inspector") or 0)
            if action == "capacity":
                services.set_capacity(
                    by=user,
                    inspector=inspector,
                    inspections_per_day=_count(
                        posted.get("inspections_per_day"), "inspections_per_day"
                    ),
                )
            else:
                services.add_day_off(
                    by=user,
                    inspector=inspector,
                    day=_day(posted.get("day"), "day"),
                    reason=posted.get("reason", ""),
                )
    except PermissionDenied as error:
        messages.error(request, str(error))
    except ValidationError as error:
        for field_errors in _errors(error).values():
            for message in field_errors:
                messages.error(request, message)
    else:
        messages.success(request, "Calendar updated.")
    return redirect(back)


@login_required
def feed_list(request):
    """The user's calendar feeds; POST makes or rotates one (the URL is shown once)."""
    new_url = ""
    if request.method == "POST":
        try:
            _feed, token = services.rotate_feed(by=request.user, kind=request.POST.get("kind", ""))
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
        else:
            new_url = settings.SITE_URL + reverse("scheduling:feed", kwargs={"token": token})
    kinds = [k for k in FeedKind.values if services.may_have_feed(request.user, k)]
    existing = {f.kind: f for f in for_user(CalendarFeed, request.user)}
    context = {
        "rows": [{"kind": k, "label": FeedKind(k).label, "feed": existing.get(k)} for k in kinds],
        "new_url": new_url,
    }
    return render(request, "scheduling/feeds.html", context)


@require_GET
def feed(request, token: str):
    """The iCalendar text of a feed; a token that is wrong, rotated away or of a deactivated
    user answers 404."""
    found = services.feed_for_token(token)
    if found is None:
        raise Http404("No calendar here.")
    response = HttpResponse(feeds.render(found), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="qcloop.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
