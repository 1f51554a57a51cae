"""Pages, feeds and the API, as their users reach them."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from qcloop.accounts.models import Role
from qcloop.accounts.services import add_member
from qcloop.inspections.models import Milestone
from qcloop.scheduling import ical, services
from qcloop.scheduling.models import Booking, ProgressReport, ScheduleChange, ScheduleWarning

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_po_detail_shows_the_schedule_and_the_warning(running):
    w = running
    services.record_progress(
        by=w.user(Role.SUPPLIER_USER),
        po=w.po,
        reported_on=w.today - timedelta(days=3),
        produced=100,
    )
    page = client_of(w.user(Role.BUYER_VIEWER)).get(reverse("orders:po_detail", args=[w.po.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and 'id="po-schedule"' in text
    assert 'id="ship-date-warning"' in text and "Ship date at risk by 26 days" in text


def test_the_supplier_reports_progress_from_the_form(running):
    w = running
    client = client_of(w.user(Role.SUPPLIER_USER))
    url = reverse("scheduling:report_progress", args=[w.po.pk])
    refused = client.post(url, {"reported_on": "someday", "produced": "10"})
    assert refused.status_code == 422 and "YYYY-MM-DD" in refused.content.decode()
    over = client.post(url, {"reported_on": w.today.isoformat(), "produced": "4000"})
    assert over.status_code == 422 and "more than the PO" in over.content.decode()
    assert not ProgressReport.objects.exists()
    done = client.post(url, {"reported_on": w.today.isoformat(), "produced": "500", "packed": "0"})
    assert done.status_code == 302
    page = client.get(reverse("scheduling:po_schedule", args=[w.po.pk])).content.decode()
    assert "DUPRO window" in page and "500" in page


def test_the_booking_form_refuses_a_short_lead_and_keeps_nothing(running):
    w = running
    dupro = w.milestones["DUPRO"]
    client = client_of(w.user(Role.QC_LEAD))
    answer = client.post(
        reverse("scheduling:book", args=[dupro.pk]),
        {"inspector": w.inspector.pk, "day": (w.today + timedelta(days=1)).isoformat()},
    )
    assert answer.status_code == 422 and "lead time is 48 hours" in answer.content.decode()
    assert not Booking.objects.exists()
    ok = client.post(
        reverse("scheduling:book", args=[dupro.pk]),
        {"inspector": w.inspector.pk, "day": (w.today + timedelta(days=5)).isoformat()},
    )
    assert ok.status_code == 302 and Milestone.objects.get(pk=dupro.pk).status == "booked"


def test_the_calendar_shows_capacity_bookings_and_days_off(running):
    w = running
    day = w.today + timedelta(days=5)
    services.book_milestone(
        by=w.qc_lead, milestone=w.milestones["DUPRO"], inspector=w.inspector, day=day
    )
    coordinator = client_of(w.user(Role.COORDINATOR))
    change = reverse("scheduling:calendar_change")
    coordinator.post(
        change,
        {
            "action": "day_off",
            "inspector": w.inspector.pk,
            "day": str(day + timedelta(days=1)),
            "reason": "Training",
        },
    )
    page = coordinator.get(reverse("scheduling:calendar") + f"?month={day:%Y-%m}").content.decode()
    assert f"DUPRO {w.po.number}" in page and "1/1" in page and "Training" in page
    # An inspector may not change the calendar; nothing is added.
    client_of(w.inspector).post(
        change, {"action": "capacity", "inspector": w.inspector.pk, "inspections_per_day": "5"}
    )
    assert services.selectors.capacity_of(w.inspector, day) == 1


def test_the_inspector_feed_by_token_and_its_rotation(running):
    w = running
    day = w.today + timedelta(days=5)
    services.book_milestone(
        by=w.qc_lead, milestone=w.milestones["DUPRO"], inspector=w.inspector, day=day
    )
    page = client_of(w.inspector).post(reverse("scheduling:feeds"), {"kind": "inspector"})
    url = page.context["new_url"]
    path = url.removeprefix("http://127.0.0.1:8000")
    anonymous = Client()
    first = anonymous.get(path)
    assert first.status_code == 200 and first["Content-Type"].startswith("text/calendar")
    [event] = ical.parse(first.content.decode())
    assert event["DTSTART"] == day and event["DTEND"] == day + timedelta(days=1)
    assert w.po.number in event["SUMMARY"] and event["STATUS"] == "CONFIRMED"
    again = ical.parse(anonymous.get(path).content.decode())
    assert (
        again[0]["UID"] == event["UID"] == f"milestone-{w.milestones['DUPRO'].pk}-inspector@qcloop"
    )
    assert anonymous.get(path.replace(".ics", "x.ics")).status_code == 404
    client_of(w.inspector).post(reverse("scheduling:feeds"), {"kind": "inspector"})
    assert anonymous.get(path).status_code == 404  # rotated away


def test_the_buyer_feed_holds_its_milestones_windows(running):
    w = running
    _, token = services.rotate_feed(by=w.user(Role.BUYER_VIEWER), kind="buyer")
    events = ical.parse(Client().get(reverse("scheduling:feed", args=[token])).content.decode())
    assert {e["SUMMARY"].split(" ·")[0] for e in events} == {"IPC", "DUPRO", "PSI", "CLI"}
    assert all(e["STATUS"] == "TENTATIVE" for e in events)


def api(client, method, path, body=None):
    return client.generic(method, path, json.dumps(body or {}), "application/json")


def test_the_api_reports_progress_and_answers_the_schedule(running):
    w = running
    supplier = client_of(w.user(Role.SUPPLIER_USER))
    base = f"/api/purchase-orders/{w.po.pk}"
    bad = api(
        supplier,
        "POST",
        f"{base}/progress-reports",
        {"reported_on": str(w.today), "produced": 10, "packed": 20},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "payload", "packed"]
    made = api(
        supplier,
        "POST",
        f"{base}/progress-reports",
        {"reported_on": str(w.today - timedelta(days=3)), "produced": 100},
    )
    assert made.status_code == 201 and made.json()["source"] == "supplier"
    assert len(supplier.get(f"{base}/progress-reports").json()) == 1
    schedule = supplier.get(f"{base}/schedule").json()
    assert schedule["risk"] == {
        "at_risk": True,
        "days_late": 26,
        "reasons": schedule["risk"]["reasons"],
    }
    assert schedule["warning_raised_at"] and ScheduleWarning.objects.count() == 1
    assert [p["kind"] for p in schedule["placements"]] == ["IPC", "DUPRO", "PSI", "CLI"]


def test_the_api_books_and_lists_bookings(running):
    w = running
    lead = client_of(w.qc_lead)
    path = f"/api/milestones/{w.milestones['PSI'].pk}/booking"
    refused = api(lead, "POST", path, {"inspector": w.inspector.pk, "day": str(w.today)})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "day"
    day = w.today + timedelta(days=4)
    made = api(lead, "POST", path, {"inspector": w.inspector.pk, "day": str(day)})
    assert made.status_code == 201 and made.json()["kind"] == "PSI"
    listed = lead.get(f"/api/purchase-orders/{w.po.pk}/bookings").json()
    assert [b["day"] for b in listed] == [str(day)]


def test_a_feed_shows_only_what_its_owner_may_see(running, other_world):
    w = running
    _, token = services.rotate_feed(by=w.user(Role.BUYER_MANAGER), kind="buyer")
    text = Client().get(reverse("scheduling:feed", args=[token])).content.decode()
    assert w.po.number in text and other_world.po.number not in text
    # The world's inspector has nothing booked yet: an empty calendar, not someone else's.
    _, mine = services.rotate_feed(by=other_world.inspector, kind="inspector")
    assert ical.parse(Client().get(reverse("scheduling:feed", args=[mine])).content.decode()) == []
    # A user who leaves takes the feed with them.
    w.user(Role.BUYER_MANAGER).is_active = False
    w.user(Role.BUYER_MANAGER).save()
    assert Client().get(reverse("scheduling:feed", args=[token])).status_code == 404


def test_a_supplier_has_no_feed_and_an_inspector_cannot_book(running):
    w = running
    page = client_of(w.user(Role.SUPPLIER_USER)).post(
        reverse("scheduling:feeds"), {"kind": "buyer"}
    )
    assert page.context["new_url"] == "" and not services.CalendarFeed.objects.exists()
    answer = client_of(w.inspector).post(
        reverse("scheduling:book", args=[w.milestones["DUPRO"].pk]),
        {"inspector": w.inspector.pk, "day": str(w.today + timedelta(days=5))},
    )
    assert answer.status_code == 422 and "Only the agency" in answer.content.decode()
    assert not Booking.objects.exists()


def test_the_po_api_refuses_a_new_qc_lead_once_a_milestone_is_booked(running):
    from qcloop.accounts.services import add_member

    w = running
    other = add_member(
        organisation=w.agency, email="lead2.a@example.com", full_name="Lead Two", role=Role.QC_LEAD
    )
    day = w.today + timedelta(days=5)
    services.book_milestone(
        by=w.qc_lead, milestone=w.milestones["DUPRO"], inspector=w.inspector, day=day
    )
    answer = api(
        client_of(w.user(Role.BUYER_MANAGER)),
        "PATCH",
        f"/api/purchase-orders/{w.po.pk}",
        {"qc_lead": other.pk},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "payload", "qc_lead"]
    w.po.refresh_from_db()
    assert w.po.qc_lead == w.qc_lead


def test_a_coordinator_reassigns_the_qc_lead_from_the_schedule_page(running, mailoutbox):
    w = running
    other = add_member(
        organisation=w.agency,
        email="lead2.a@example.com",
        full_name="Second Lead",
        role=Role.QC_LEAD,
    )
    url = reverse("scheduling:reassign_lead", args=[w.po.pk])
    page = client_of(w.user(Role.COORDINATOR)).get(
        reverse("scheduling:po_schedule", args=[w.po.pk])
    )
    assert 'id="lead-form"' in page.content.decode() and "Second Lead" in page.content.decode()
    # The QC lead sees the schedule but not the form, and may not post it.
    lead_page = client_of(w.qc_lead).get(reverse("scheduling:po_schedule", args=[w.po.pk]))
    assert 'id="lead-form"' not in lead_page.content.decode()
    refused = client_of(w.qc_lead).post(url, {"qc_lead": other.pk, "reason": "leave"})
    assert refused.status_code == 422 and "coordinators" in refused.content.decode()
    coordinator = client_of(w.user(Role.COORDINATOR))
    no_reason = coordinator.post(url, {"qc_lead": other.pk, "reason": "  "})
    assert no_reason.status_code == 422 and "Say why" in no_reason.content.decode()
    inspector = coordinator.post(url, {"qc_lead": w.inspector.pk, "reason": "leave"})
    assert inspector.status_code == 422 and "one of the agency&#x27;s QC leads" in (
        inspector.content.decode()
    )
    w.po.refresh_from_db()
    assert w.po.qc_lead == w.qc_lead and not ScheduleChange.objects.filter(what="QC lead")
    done = coordinator.post(url, {"qc_lead": other.pk, "reason": "Lead on long leave"})
    assert done.status_code == 302
    w.po.refresh_from_db()
    assert w.po.qc_lead == other
    log = coordinator.get(reverse("scheduling:po_schedule", args=[w.po.pk])).content.decode()
    assert "All milestones reassigned: Lead on long leave" in log
