"""The milestone page: the next steps offered to each person, and planning through the form."""

from datetime import timedelta

import pytest
from django.urls import reverse

from qcloop.accounts.models import Role

pytestmark = pytest.mark.django_db


def actions(client, user, milestone) -> list[str]:
    client.force_login(user)
    return [
        to
        for to, _ in client.get(
            reverse("inspections:milestone_detail", args=[milestone.pk])
        ).context["actions"]
    ]


def test_each_person_is_offered_only_their_own_next_step(client, world):
    dupro = world.milestones["DUPRO"]
    assert actions(client, world.user(Role.COORDINATOR), dupro) == ["booked", "cancelled"]
    assert actions(client, world.user(Role.BUYER_MANAGER), dupro) == []
    assert actions(client, world.inspector, dupro) == []


def test_plan_book_start_submit_publish_through_the_pages(client, world):
    dupro = world.milestones["DUPRO"]
    client.force_login(world.user(Role.COORDINATOR))
    date = dupro.window_start + timedelta(days=1)
    response = client.post(
        reverse("inspections:milestone_plan", args=[dupro.pk]),
        {
            "window_start": dupro.window_start,
            "window_end": dupro.window_end,
            "inspection_date": date,
            "inspector": world.inspector.pk,
        },
    )
    assert response.status_code == 302
    steps = [
        (world.user(Role.COORDINATOR), "booked"),
        (world.inspector, "in_progress"),
        (world.inspector, "submitted"),
        (world.qc_lead, "published"),
    ]
    for user, to in steps:
        client.force_login(user)
        assert to in actions(client, user, dupro)
        client.post(reverse("inspections:milestone_transition", args=[dupro.pk]), {"to": to})
        dupro.refresh_from_db()
        assert dupro.status == to
    assert actions(client, world.qc_lead, dupro) == []


def test_a_refused_step_is_explained_and_changes_nothing(client, world):
    ipc = world.milestones["IPC"]
    client.force_login(world.user(Role.COORDINATOR))
    response = client.post(
        reverse("inspections:milestone_transition", args=[ipc.pk]), {"to": "booked"}, follow=True
    )
    assert "Set the inspection date and the inspector before booking." in response.content.decode()
    ipc.refresh_from_db()
    assert ipc.status == "planned"


def test_a_bad_plan_is_shown_on_the_form(client, world):
    ipc = world.milestones["IPC"]
    client.force_login(world.qc_lead)
    response = client.post(
        reverse("inspections:milestone_plan", args=[ipc.pk]),
        {"window_start": ipc.window_start, "window_end": ipc.window_start - timedelta(days=1)},
    )
    assert response.status_code == 422
    assert "The window cannot end before it starts." in response.content.decode()


def test_people_outside_the_agency_cannot_plan(client, world):
    ipc = world.milestones["IPC"]
    client.force_login(world.user(Role.BUYER_MANAGER))
    response = client.post(
        reverse("inspections:milestone_plan", args=[ipc.pk]),
        {"window_start": ipc.window_start, "window_end": ipc.window_end},
    )
    assert response.status_code == 403
