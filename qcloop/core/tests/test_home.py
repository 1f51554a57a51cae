"""Each role's home page shows that role's work."""

from datetime import timedelta

import pytest
from django.urls import reverse

from qcloop.accounts.models import Role, User
from qcloop.inspections.services import transition_milestone, update_milestone

pytestmark = pytest.mark.django_db


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_buyer_sees_its_pos_in_production(client, world):
    html = home(client, world.user(Role.BUYER_VIEWER))
    assert "PO-A-1001" in html and "1 PO in production" in html


def test_an_inspector_sees_assigned_milestones(client, world):
    dupro = world.milestones["DUPRO"]
    update_milestone(
        by=world.qc_lead,
        milestone=dupro,
        changes={"inspection_date": dupro.window_start + timedelta(days=1), "status": "booked"},
    )
    html = home(client, world.inspector)
    assert "Your inspections" in html and "PO-A-1001" in html and ">DUPRO<" in html


def test_a_qc_lead_sees_reports_to_review(client, world):
    dupro = world.milestones["DUPRO"]
    update_milestone(
        by=world.qc_lead,
        milestone=dupro,
        changes={"inspection_date": dupro.window_start, "status": "booked"},
    )
    transition_milestone(by=world.inspector, milestone=dupro, to="in_progress")
    transition_milestone(by=world.inspector, milestone=dupro, to="submitted")
    client.force_login(world.qc_lead)
    context = client.get(reverse("core:home")).context
    assert list(context["to_review"]) == [dupro]
    assert list(context["orders"]) == [world.po]


def test_a_coordinator_sees_milestones_to_book(client, world):
    client.force_login(world.user(Role.COORDINATOR))
    context = client.get(reverse("core:home")).context
    assert world.milestones["IPC"] in context["to_book"]
    assert dict(context["stage_counts"])["IPC"] == 1


def test_a_supplier_sees_its_orders(client, world):
    assert "PO-A-1001" in home(client, world.user(Role.SUPPLIER_USER))


def test_staff_without_an_organisation_are_pointed_to_the_admin(client):
    staff = User.objects.create_superuser(email="root@example.com", password="x", full_name="R")
    html = home(client, staff)
    assert "does not belong to an organisation" in html and "/admin/" in html


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
