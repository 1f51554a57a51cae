"""The agency edits its checklists on a page; each save is a new version."""

import pytest
from django.test import Client
from django.urls import reverse

from qcloop.accounts.models import Role
from qcloop.inspections.checklist_views import items_to_text, text_to_items
from qcloop.inspections.defaults import CHECKLISTS
from qcloop.inspections.models import ChecklistTemplate

pytestmark = pytest.mark.django_db


def test_the_text_form_round_trips_the_default_items():
    items = CHECKLISTS[("lighting", "PSI")]
    assert text_to_items(items_to_text(items)) == [
        {key: item[key] for key in ("code", "section", "mandatory", "on_fail", "answer", "text")}
        for item in items
    ]


def test_a_coordinator_saves_a_new_version(world):
    template = ChecklistTemplate.objects.get(
        agency=world.agency, category="toys", milestone_kind="PSI"
    )
    client = Client()
    client.force_login(world.user(Role.COORDINATOR))
    url = reverse("inspections:checklist_edit", args=[template.pk])
    text = client.get(url).context["form"]["items"].value()
    text += (
        "\nPSI-TOY-EXTRA-01 | labelling | required | fail | check | Age grading 3+ on retail box"
    )
    assert client.post(url, {"items": text}).status_code == 302
    assert template.current.number == 2
    assert template.current.item("PSI-TOY-EXTRA-01")["mandatory"] is True
    bad = client.post(url, {"items": "only | three | fields"})
    assert bad.status_code == 422 and "Line 1: give six fields" in bad.content.decode()
    unknown = client.post(url, {"items": "A | nowhere | required | fail | check | x"})
    assert unknown.status_code == 422 and "unknown section" in unknown.content.decode()
    assert template.current.number == 2


def test_inspectors_and_other_agencies_do_not_see_the_checklists(world, other_world):
    template = ChecklistTemplate.objects.filter(agency=world.agency).first()
    url = reverse("inspections:checklist_edit", args=[template.pk])
    for user in (world.inspector, other_world.user(Role.COORDINATOR)):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 404
