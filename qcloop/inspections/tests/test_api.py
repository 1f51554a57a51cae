"""The milestone API: lists and details through the milestone gate, re-inspections through
add_milestone, re-planning and the status workflow through update_milestone."""

from datetime import date, timedelta

import pytest
from django.test import Client

from qcloop.accounts.models import Role
from qcloop.inspections.models import Milestone, MilestoneStatus
from qcloop.inspections.services import transition_milestone, update_milestone

URL = "/api/milestones"


def client_for(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def post(client, payload):
    return client.post(URL, payload, content_type="application/json")


def patch(client, milestone, payload):
    return client.patch(f"{URL}/{milestone.pk}", payload, content_type="application/json")


def field_error(response, field: str) -> str:
    """The message of a 422 on body field `field`, checking the error shape on the way."""
    assert response.status_code == 422, response.content
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert ("body", "payload", field) in errors, errors
    return errors[("body", "payload", field)]


def kinds(response) -> list[str]:
    return [m["kind"] for m in response.json()["items"]]


def book(world, milestone, *, by=None, on: date | None = None):
    """Set up a booked milestone through the service, as a coordinator would."""
    changes = {
        "inspection_date": on or milestone.window_start,
        "inspector": world.inspector,
        "status": MilestoneStatus.BOOKED,
    }
    coordinator = by or world.user(Role.COORDINATOR)
    return update_milestone(by=coordinator, milestone=milestone, changes=changes)


# --- reading -------------------------------------------------------------------------------


def test_milestone_list_and_detail(world):
    client = client_for(world.user(Role.COORDINATOR))

    page = client.get(URL).json()
    detail = client.get(f"{URL}/{world.milestones['DUPRO'].pk}").json()

    assert page["count"] == 4
    assert {m["kind"] for m in page["items"]} == {"IPC", "DUPRO", "PSI", "CLI"}
    dupro = world.milestones["DUPRO"]
    assert detail == {
        **detail,
        "id": dupro.pk,
        "po": world.po.pk,
        "po_number": "PO-A-1001",
        "kind": "DUPRO",
        "sequence": 1,
        "label": "DUPRO",
        "status": "planned",
        "window_start": dupro.window_start.isoformat(),
        "window_end": dupro.window_end.isoformat(),
        "inspection_date": None,
        "inspector": world.inspector.pk,
        "inspector_name": world.inspector.full_name,
        "started_at": None,
    }


def test_an_inspector_sees_only_their_milestones(world):
    client = client_for(world.inspector)

    assert kinds(client.get(URL)) == ["DUPRO"]
    assert client.get(f"{URL}/{world.milestones['IPC'].pk}").status_code == 404


def test_the_supplier_sees_its_pos_milestones(world):
    assert client_for(world.user(Role.SUPPLIER_USER)).get(URL).json()["count"] == 4


def test_an_outsider_sees_no_milestone_of_another_tenant(world, other_world):
    client = client_for(other_world.user(Role.COORDINATOR))
    dupro = world.milestones["DUPRO"]

    page = client.get(URL).json()
    assert {m["po_number"] for m in page["items"]} == {"PO-B-1001"}
    assert client.get(f"{URL}?po={world.po.pk}").json()["count"] == 0
    assert client.get(f"{URL}/{dupro.pk}").status_code == 404
    response = patch(client, dupro, {"window_end": "2099-01-01"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert Milestone.objects.get(pk=dupro.pk).window_end == dupro.window_end


def test_milestone_list_is_paginated(world):
    client = client_for(world.user(Role.COORDINATOR))

    first = client.get(f"{URL}?limit=3").json()
    rest = client.get(f"{URL}?limit=3&offset=3").json()

    assert first["count"] == rest["count"] == 4
    assert len(first["items"]) == 3 and len(rest["items"]) == 1
    assert {m["id"] for m in first["items"]}.isdisjoint(m["id"] for m in rest["items"])


def test_milestone_filters(world, other_world):
    ipc = book(world, world.milestones["IPC"])
    client = client_for(world.user(Role.COORDINATOR))
    psi, cli = world.milestones["PSI"], world.milestones["CLI"]

    assert kinds(client.get(f"{URL}?po={world.po.pk}&limit=10")) == ["IPC", "DUPRO", "PSI", "CLI"]
    assert kinds(client.get(f"{URL}?kind=PSI")) == ["PSI"]
    assert kinds(client.get(f"{URL}?status=booked")) == ["IPC"]
    assert kinds(client.get(f"{URL}?status=planned")) == ["DUPRO", "PSI", "CLI"]
    assert kinds(client.get(f"{URL}?inspector={world.inspector.pk}")) == ["IPC", "DUPRO"]
    assert kinds(client.get(f"{URL}?inspector={other_world.inspector.pk}")) == []
    # The range looks at the inspection date once booked, else at the planned window.
    on = ipc.inspection_date
    assert kinds(client.get(f"{URL}?date_from={on}&date_to={on}")) == ["IPC"]
    assert kinds(client.get(f"{URL}?date_from={psi.window_end}")) == ["PSI", "CLI"]
    assert kinds(client.get(f"{URL}?date_from={cli.window_start}&kind=CLI")) == ["CLI"]
    before = ipc.inspection_date - timedelta(days=1)
    assert kinds(client.get(f"{URL}?date_to={before}")) == []


@pytest.mark.parametrize("query", ["kind=FRI", "status=done", "date_from=yesterday", "po=x"])
def test_bad_milestone_filters_are_422(world, query):
    response = client_for(world.user(Role.COORDINATOR)).get(f"{URL}?{query}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


# --- adding a re-inspection ----------------------------------------------------------------


def reinspection(world, **changes):
    psi = world.milestones["PSI"]
    return {
        "po": world.po.pk,
        "kind": "PSI",
        "window_start": psi.window_end.isoformat(),
        "window_end": (psi.window_end + timedelta(days=3)).isoformat(),
        **changes,
    }


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.QC_LEAD, Role.ADMIN])
def test_the_agency_adds_a_reinspection(world, role):
    response = post(client_for(world.user(role)), reinspection(world))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["sequence"], body["label"]) == ("PSI", 2, "PSI #2")
    assert (body["status"], body["po"]) == ("planned", world.po.pk)
    assert world.po.milestones.filter(kind="PSI").count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "contains"),
    [
        ({"window_end": "2000-01-01"}, "window_end", "cannot end before it starts"),
        ({"kind": "FRI"}, "kind", ""),
        ({"po": 999999}, "po", "No purchase order 999999 that you can use."),
        ({"window_start": None}, "window_start", ""),
        ({"inspector": 1}, "inspector", "Extra inputs"),
    ],
)
def test_bad_reinspection_input_is_422(world, changes, field, contains):
    response = post(client_for(world.user(Role.COORDINATOR)), reinspection(world, **changes))

    assert contains in field_error(response, field)
    assert Milestone.objects.filter(po=world.po).count() == 4


def test_a_reinspection_on_another_tenants_po_is_422(world, other_world):
    client = client_for(world.user(Role.COORDINATOR))

    response = post(client, reinspection(world, po=other_world.po.pk))

    message = field_error(response, "po")
    assert message == f"No purchase order {other_world.po.pk} that you can use."
    assert other_world.po.milestones.count() == 4


@pytest.mark.parametrize("role", [Role.BUYER_MANAGER, Role.SUPPLIER_USER, Role.INSPECTOR])
def test_only_the_agency_plans_milestones(world, role):
    response = post(client_for(world.user(role)), reinspection(world))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the agency's coordinators and the QC lead plan milestones."
    }
    assert Milestone.objects.filter(po=world.po).count() == 4


# --- re-planning ---------------------------------------------------------------------------


def test_the_coordinator_replans_and_assigns(world):
    ipc = world.milestones["IPC"]
    day = ipc.window_start + timedelta(days=1)

    response = patch(
        client_for(world.user(Role.COORDINATOR)),
        ipc,
        {"inspection_date": day.isoformat(), "inspector": world.inspector.pk},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["inspection_date"], body["inspector"]) == (day.isoformat(), world.inspector.pk)
    assert body["status"] == "planned"
    ipc.refresh_from_db()
    assert (ipc.inspection_date, ipc.inspector) == (day, world.inspector)


def test_patch_can_unassign_the_inspector(world):
    response = patch(client_for(world.qc_lead), world.milestones["DUPRO"], {"inspector": None})

    assert response.status_code == 200
    assert response.json()["inspector"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"window_end": "2000-01-01"}, "window_end"),
        ({"window_start": None}, "window_start"),
        ({"inspector": 999999}, "inspector"),
        ({"kind": "CLI"}, "kind"),
        ({"status": "done"}, "status"),
    ],
)
def test_bad_replanning_is_422_and_changes_nothing(world, payload, field):
    ipc = world.milestones["IPC"]
    before = Milestone.objects.filter(pk=ipc.pk).values().get()

    response = patch(client_for(world.user(Role.COORDINATOR)), ipc, payload)

    field_error(response, field)
    assert Milestone.objects.filter(pk=ipc.pk).values().get() == before


def test_an_inspector_from_another_tenant_is_422(world, other_world):
    response = patch(
        client_for(world.user(Role.COORDINATOR)),
        world.milestones["IPC"],
        {"inspector": other_world.inspector.pk},
    )

    assert field_error(response, "inspector") == (
        f"No user {other_world.inspector.pk} that you can use."
    )


def test_only_an_inspector_of_the_agency_can_be_assigned(world):
    coordinator = world.user(Role.COORDINATOR)
    ipc = world.milestones["IPC"]

    response = patch(client_for(coordinator), ipc, {"inspector": coordinator.pk})

    assert "is not an inspector of the agency" in field_error(response, "inspector")


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.BUYER_MANAGER, Role.SUPPLIER_USER])
def test_only_the_agency_replans(world, role):
    dupro = world.milestones["DUPRO"]

    response = patch(client_for(world.user(role)), dupro, {"window_end": "2099-12-31"})

    assert response.status_code == 403
    assert "Only the agency's coordinators and the QC lead" in response.json()["detail"]
    assert Milestone.objects.get(pk=dupro.pk).window_end == dupro.window_end


def test_a_submitted_milestone_is_not_replanned(world):
    dupro = book(world, world.milestones["DUPRO"])
    transition_milestone(by=world.inspector, milestone=dupro, to=MilestoneStatus.IN_PROGRESS)
    transition_milestone(by=world.inspector, milestone=dupro, to=MilestoneStatus.SUBMITTED)

    response = patch(client_for(world.qc_lead), dupro, {"inspection_date": "2099-01-01"})

    assert "is not re-planned" in field_error(response, "status")


# --- the status workflow -------------------------------------------------------------------


def test_booking_needs_a_date_and_an_inspector(world):
    ipc = world.milestones["IPC"]

    response = patch(client_for(world.user(Role.COORDINATOR)), ipc, {"status": "booked"})

    assert field_error(response, "inspection_date") == (
        "Set the inspection date and the inspector before booking."
    )
    assert Milestone.objects.get(pk=ipc.pk).status == MilestoneStatus.PLANNED


def test_a_failed_booking_saves_none_of_the_same_patch(world):
    ipc = world.milestones["IPC"]
    day = ipc.window_start.isoformat()

    # The date is set but no inspector: the booking fails, and so the date is not kept either.
    response = patch(
        client_for(world.user(Role.COORDINATOR)), ipc, {"inspection_date": day, "status": "booked"}
    )

    field_error(response, "inspection_date")
    ipc.refresh_from_db()
    assert (ipc.status, ipc.inspection_date) == (MilestoneStatus.PLANNED, None)


def test_a_milestone_goes_through_its_workflow_by_patch(world):
    dupro = world.milestones["DUPRO"]
    coordinator = client_for(world.user(Role.COORDINATOR))
    inspector = client_for(world.inspector)
    lead = client_for(world.qc_lead)
    day = dupro.window_start.isoformat()

    steps = [
        (coordinator, {"inspection_date": day, "status": "booked"}),
        (inspector, {"status": "in_progress"}),
        (inspector, {"status": "submitted"}),
        (lead, {"status": "in_progress"}),  # sent back for another look
        (inspector, {"status": "submitted"}),
        (lead, {"status": "published"}),
    ]
    for client, payload in steps:
        response = patch(client, dupro, payload)
        assert response.status_code == 200, (payload, response.content)
        assert response.json()["status"] == payload["status"]

    body = response.json()
    assert body["started_at"] and body["submitted_at"] and body["published_at"]
    dupro.refresh_from_db()
    assert dupro.status == MilestoneStatus.PUBLISHED


@pytest.mark.parametrize(
    ("setup", "to"),
    [
        ([], "published"),
        ([], "in_progress"),
        ([], "submitted"),
        (["booked"], "submitted"),
        (["booked", "in_progress", "submitted", "published"], "planned"),
        (["cancelled"], "booked"),
    ],
)
def test_an_invalid_transition_is_422_naming_status(world, setup, to):
    dupro = world.milestones["DUPRO"]
    lead = world.qc_lead
    for status in setup:
        if status == "booked":
            dupro = book(world, dupro)
        else:
            dupro = transition_milestone(by=lead, milestone=dupro, to=status)

    response = patch(client_for(lead), dupro, {"status": to})

    assert f"cannot become {to}" in field_error(response, "status")
    assert Milestone.objects.get(pk=dupro.pk).status == dupro.status


def test_only_the_qc_lead_publishes(world):
    dupro = book(world, world.milestones["DUPRO"])
    transition_milestone(by=world.inspector, milestone=dupro, to=MilestoneStatus.IN_PROGRESS)
    transition_milestone(by=world.inspector, milestone=dupro, to=MilestoneStatus.SUBMITTED)

    response = patch(client_for(world.inspector), dupro, {"status": "published"})

    assert response.status_code == 403
    assert response.json() == {"detail": "You cannot move this milestone to published."}
    assert Milestone.objects.get(pk=dupro.pk).status == MilestoneStatus.SUBMITTED


def test_an_inspector_cannot_cancel(world):
    dupro = world.milestones["DUPRO"]

    response = patch(client_for(world.inspector), dupro, {"status": "cancelled"})

    assert response.status_code == 403
    assert Milestone.objects.get(pk=dupro.pk).status == MilestoneStatus.PLANNED


def test_a_supplier_cannot_move_a_milestone(world):
    ipc = world.milestones["IPC"]

    response = patch(client_for(world.user(Role.SUPPLIER_USER)), ipc, {"status": "cancelled"})

    assert response.status_code == 403
    assert Milestone.objects.get(pk=ipc.pk).status == MilestoneStatus.PLANNED
