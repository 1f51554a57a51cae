"""Progress reports, re-planning, warnings, bookings, the calendar and the QC lead, through
the real services. Dates are offsets from the factory's today T; the PO started at T-5, leaves
the factory at T+30 (PSI deadline T+29) and ships at T+35; 3,000 units."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qcloop.accounts.models import Role
from qcloop.accounts.services import add_member
from qcloop.inspections.models import Milestone
from qcloop.inspections.recording import record_production
from qcloop.orders.services import update_purchase_order
from qcloop.scheduling import services
from qcloop.scheduling.models import Booking, ProgressReport, ScheduleChange, ScheduleWarning
from qcloop.testing import start_inspection

pytestmark = pytest.mark.django_db


def days(world, n):
    return world.today + timedelta(days=n)


def window(world, kind):
    m = Milestone.objects.get(po=world.po, kind=kind)
    return (m.window_start, m.window_end)


def snapshot(world):
    return (
        ProgressReport.objects.count(),
        ScheduleChange.objects.count(),
        ScheduleWarning.objects.count(),
        Booking.objects.count(),
        list(Milestone.objects.filter(po=world.po).values_list("window_start", "window_end")),
    )


def report(world, n, produced, packed=0, note="", by=Role.SUPPLIER_USER):
    return services.record_progress(
        by=world.user(by),
        po=world.po,
        reported_on=days(world, n),
        produced=produced,
        packed=packed,
        note=note,
    )


def test_the_factory_report_moves_the_windows_and_logs_why(running):
    w = running
    report(w, 0, 500)
    # 500 units in 5 days: 100 a day. 900 (30 %) on T+4, 1500 (50 %) on T+10; 3000 on T+25;
    # packing, not started, trails a week: 2400 produced on T+19, packed T+26. PSI from T+26
    # to its deadline T+29.
    assert window(w, "DUPRO") == (days(w, 4), days(w, 10))
    assert window(w, "PSI") == (days(w, 26), days(w, 29))
    assert window(w, "CLI") == (days(w, 30), days(w, 35))
    moved = ScheduleChange.objects.get(po=w.po, what="DUPRO window")
    assert "Progress reported by the factory" in moved.reason and "30-50 %" in moved.reason
    assert moved.by == w.user(Role.SUPPLIER_USER)
    assert not ScheduleWarning.objects.exists()


def test_a_follow_up_count_below_the_report_moves_dupro_and_psi_later_and_warns_once(
    running, smtp_server, django_capture_on_commit_callbacks
):
    w = running
    report(w, 0, 500)
    ipc = start_inspection(w, "IPC")  # booked and started today (the window was moved there)
    with django_capture_on_commit_callbacks(execute=True):
        record_production(
            by=w.inspector, milestone=ipc, counted_on=w.today, produced=300, reported_produced=500
        )
    # The count (300 on T) outranks the report of the same day: 60 a day. 900 on
    # T + 600/60 = T+10, 1500 on T+20, 3000 on T + 2700/60 = T+45 (2400 produced on T+35,
    # packed a week later, T+42: production is the limit).
    assert window(w, "DUPRO") == (days(w, 10), days(w, 20))
    assert window(w, "PSI") == (days(w, 45), days(w, 45))
    # Loading the day after: T+46, 11 days after the ship date; the PSI is 16 days late.
    assert window(w, "CLI") == (days(w, 46), days(w, 46))
    warning = ScheduleWarning.objects.get(po=w.po)
    assert warning.days_late == 16 and len(warning.reasons) == 2
    assert ScheduleChange.objects.filter(what="PSI window", reason__contains="count").exists()
    buyers = {w.user(Role.BUYER_MANAGER).email, w.user(Role.BUYER_VIEWER).email}
    assert len(smtp_server.messages) == 1
    _, to, text = smtp_server.messages[0]
    assert set(to) == buyers and "Ship date at risk" in text and "16 days" in text
    # The same count again, then a slightly better one: no new warning, no new mail.
    with django_capture_on_commit_callbacks(execute=True):
        record_production(by=w.inspector, milestone=ipc, counted_on=w.today, produced=300)
        record_production(by=w.inspector, milestone=ipc, counted_on=w.today, produced=310)
    assert ScheduleWarning.objects.count() == 1 and len(smtp_server.messages) == 1


def test_a_worse_risk_warns_again_and_a_cleared_one_is_closed(running):
    w = running
    # 100 on T-3, 2 days in: 50 a day; 3000 on T-3 + 2900/50 = T+55, 26 days after T+29.
    report(w, -3, 100)
    first = ScheduleWarning.objects.get()
    assert first.days_late == 26
    report(w, -3, 100, note="the same again")  # no worse: nothing new
    assert ScheduleWarning.objects.count() == 1
    report(w, 0, 130)  # 30 in 3 days, 10 a day: 2870 left take 287 days, far worse
    assert ScheduleWarning.objects.count() == 2
    first.refresh_from_db()
    assert first.cleared_at is not None  # superseded by the worse one
    report(w, 0, 3000, 3000)  # all made and packed today: the risk is gone
    assert not ScheduleWarning.objects.filter(cleared_at__isnull=True).exists()


@pytest.mark.parametrize(
    "n, produced, packed, note, field",
    [
        (1, 10, 0, "", "reported_on"),  # tomorrow at the factory
        (0, 3001, 0, "", "produced"),  # more than the PO's 3000
        (0, 100, 101, "", "packed"),  # more packed than produced
        (0, -1, 0, "", "produced"),
    ],
)
def test_a_bad_report_names_the_field_and_changes_nothing(
    running, n, produced, packed, note, field
):
    before = snapshot(running)
    with pytest.raises(ValidationError) as error:
        report(running, n, produced, packed, note)
    assert field in error.value.message_dict
    assert snapshot(running) == before


def test_a_drop_below_an_earlier_count_needs_a_note(running):
    w = running
    report(w, -1, 800)
    before = snapshot(w)
    with pytest.raises(ValidationError) as error:
        report(w, 0, 700)
    assert "800 units were reported produced" in error.value.message_dict["note"][0]
    assert snapshot(w) == before
    report(w, 0, 700, note="100 units rejected at the line's own QC and scrapped")
    assert ProgressReport.objects.count() == 2


def test_only_the_supplier_and_the_agency_planners_report(running, other_world):
    with pytest.raises(PermissionDenied):
        report(running, 0, 10, by=Role.BUYER_MANAGER)
    with pytest.raises(PermissionDenied):
        report(running, 0, 10, by=Role.INSPECTOR)
    report(running, 0, 10, by=Role.COORDINATOR)
    assert ProgressReport.objects.get().source == "coordinator"


# --- bookings --------------------------------------------------------------------------------


def visit_start_utc(world, n):
    # The factory is in Asia/Shanghai (UTC+8): 08:00 there is 00:00 UTC the same day.
    return datetime.combine(days(world, n), time(0, 0), tzinfo=UTC)


def book(world, kind, n, by=Role.COORDINATOR, now=None, reason="", inspector=None):
    return services.book_milestone(
        by=world.user(by),
        milestone=Milestone.objects.get(po=world.po, kind=kind),
        inspector=inspector or world.inspector,
        day=days(world, n),
        override_reason=reason,
        now=now,
    )


def test_the_lead_time_is_48_hours_to_the_visit_start(running):
    w = running
    # 47 h 59 min before 08:00 factory time on T+5: refused; 48 h exactly: booked.
    too_late = visit_start_utc(w, 5) - timedelta(hours=47, minutes=59)
    before = snapshot(w)
    with pytest.raises(ValidationError) as error:
        book(w, "DUPRO", 5, now=too_late)
    message = error.value.message_dict["day"][0]
    assert "lead time is 48 hours" in message and "47 hours away" in message
    assert snapshot(w) == before
    booking = book(w, "DUPRO", 5, now=visit_start_utc(w, 5) - timedelta(hours=48))
    assert booking.lead_hours == 48 and booking.override_reason == ""
    dupro = Milestone.objects.get(pk=booking.milestone_id)
    assert (dupro.status, dupro.inspection_date, dupro.inspector) == (
        "booked",
        days(w, 5),
        w.inspector,
    )


def test_a_shorter_lead_needs_a_coordinator_and_a_reason_which_is_kept(running):
    w = running
    with pytest.raises(PermissionDenied, match="Only a coordinator"):
        book(w, "DUPRO", 1, by=Role.QC_LEAD, reason="rush")
    booking = book(w, "DUPRO", 1, reason="Buyer asked for an early look at the first lot")
    assert booking.lead_hours < 48
    assert booking.override_reason == "Buyer asked for an early look at the first lot"
    logged = ScheduleChange.objects.get(what="DUPRO booking")
    assert "overridden: Buyer asked" in logged.reason


def test_a_longer_agency_rule_applies(running):
    w = running
    services.save_terms(by=w.user(Role.COORDINATOR), booking_lead_hours=72, inspections_per_day=1)
    with pytest.raises(ValidationError, match="lead time is 72 hours"):
        book(w, "DUPRO", 2)
    with pytest.raises(ValidationError) as error:
        services.save_terms(
            by=w.user(Role.COORDINATOR), booking_lead_hours=24, inspections_per_day=1
        )
    assert "48 to 72" in error.value.message_dict["booking_lead_hours"][0]


def test_the_calendar_refuses_overbooking_and_days_off(running):
    w = running
    book(w, "DUPRO", 6)
    before = snapshot(w)
    with pytest.raises(ValidationError, match=r"fully booked .*: 1 of 1 inspection a day"):
        book(w, "PSI", 6)
    assert snapshot(w) == before
    services.set_capacity(by=w.user(Role.COORDINATOR), inspector=w.inspector, inspections_per_day=2)
    book(w, "PSI", 6)
    services.add_day_off(by=w.user(Role.COORDINATOR), inspector=w.inspector, day=days(w, 7))
    with pytest.raises(ValidationError, match="is off on"):
        book(w, "CLI", 7)
    with pytest.raises(ValidationError, match="is booked on"):
        services.add_day_off(by=w.user(Role.COORDINATOR), inspector=w.inspector, day=days(w, 6))


def test_the_qc_lead_is_kept_once_a_milestone_is_booked(running):
    w = running
    other = add_member(
        organisation=w.agency,
        email="lead2.a@example.com",
        full_name="Second Lead",
        role=Role.QC_LEAD,
    )
    book(w, "DUPRO", 5)
    with pytest.raises(ValidationError) as error:
        update_purchase_order(by=w.user(Role.BUYER_MANAGER), po=w.po, changes={"qc_lead": other})
    assert "stays the same" in error.value.message_dict["qc_lead"][0]
    with pytest.raises(PermissionDenied):
        services.reassign_qc_lead(by=w.qc_lead, po=w.po, lead=other, reason="leave")
    with pytest.raises(ValidationError):
        services.reassign_qc_lead(by=w.user(Role.COORDINATOR), po=w.po, lead=other, reason=" ")
    w.po.refresh_from_db()
    assert w.po.qc_lead == w.qc_lead
    services.reassign_qc_lead(
        by=w.user(Role.COORDINATOR), po=w.po, lead=other, reason="Lead on long leave"
    )
    w.po.refresh_from_db()
    assert w.po.qc_lead == other
    assert ScheduleChange.objects.get(what="QC lead").reason.endswith("Lead on long leave")


def test_booked_milestones_are_not_moved_by_progress(running):
    w = running
    book(w, "DUPRO", 5)
    before = window(w, "DUPRO")
    report(w, 0, 500)
    assert window(w, "DUPRO") == before
