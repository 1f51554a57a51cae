"""The escalation history and one escalation's page: who sees them and what they show."""

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_buyer_sees_the_history_per_po_and_per_supplier(world, escalation):
    client = _client(world.users["buyer_manager"])
    for query in ("", f"?po={world.po.pk}", f"?supplier={world.supplier.pk}", "?open=1"):
        page = client.get(f"/escalations/{query}").content.decode()
        assert "Mains cable pulls out" in page, query
    po_page = client.get(f"/pos/{world.po.pk}/").content.decode()
    assert 'id="po-escalations"' in po_page and "Mains cable pulls out" in po_page


def test_the_page_lists_each_notification_and_acknowledging_stops_the_clock(world, escalation):
    manager = world.users["buyer_manager"]
    client = _client(manager)
    page = client.get(f"/escalations/{escalation.pk}/").content.decode()
    assert world.qc_lead.email in page and manager.email in page
    assert "Not acknowledged" in page
    response = client.post(f"/escalations/{escalation.pk}/acknowledge/")
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == manager and escalation.acknowledged_via == "page"
    assert 'id="acknowledged"' in client.get(f"/escalations/{escalation.pk}/").content.decode()


def test_suppliers_do_not_see_escalations(world, escalation):
    client = _client(world.users["supplier_user"])
    assert client.get(f"/escalations/{escalation.pk}/").status_code == 404
    assert "Mains cable" not in client.get("/escalations/").content.decode()
    assert client.post(f"/escalations/{escalation.pk}/acknowledge/").status_code == 404
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is None


def test_a_contact_without_an_account_acknowledges_from_the_link(world, escalation):
    from qcloop.alerts.links import ack_url

    notification = escalation.notifications.get(target=world.users["buyer_manager"].email)
    path = ack_url(notification).removeprefix(settings.SITE_URL)
    anonymous = Client()
    page = anonymous.get(path)  # a mail scanner opening the link acknowledges nothing
    assert page.status_code == 200 and b"Mains cable pulls out" in page.content
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is None
    anonymous.post(path)
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is not None
    assert escalation.acknowledged_via == f"link sent to {notification.target_name}"
    forged = path.rstrip("/")[:-5] + "AAAAA/"
    assert anonymous.post(forged).status_code == 404


def test_the_buyer_manager_names_contacts_and_channels_and_bad_input_changes_nothing(world):
    from qcloop.alerts.models import Channel, EscalationContact, EscalationPolicy

    client = _client(world.users["buyer_manager"])
    assert client.get("/escalations/settings/").status_code == 200
    client.post(
        "/escalations/settings/",
        {"action": "add_contact", "name": "Ana", "email": "ana@b.test", "level": "1"},
    )
    bad = client.post(
        "/escalations/settings/",
        {"action": "add_contact", "name": "Ben", "phone": "12345", "level": "9"},
    )
    assert bad.status_code == 422
    assert b"international form" in bad.content and b"level is 1" in bad.content
    client.post(
        "/escalations/settings/",
        {"action": "add_channel", "kind": "webhook", "name": "ERP", "url": "https://erp.test/h"},
    )
    assert (
        client.post(
            "/escalations/settings/",
            {"action": "add_channel", "kind": "webhook", "name": "x", "url": "ftp://nope"},
        ).status_code
        == 422
    )
    client.post(
        "/escalations/settings/",
        {"action": "policy", "ack_minutes": "30", "late_days": "5", "email": "1"},
    )
    assert list(EscalationContact.objects.values_list("name", flat=True)) == ["Ana"]
    hook = Channel.objects.get()
    assert hook.secret.startswith("whsec_") and hook.kind == "webhook"
    policy = EscalationPolicy.objects.get(buyer=world.buyer)
    assert (policy.ack_minutes, policy.late_days, policy.email) == (30, 5, True)
    page = client.get("/escalations/settings/").content.decode()
    assert hook.secret in page  # the manager configures the receiver with it


def test_only_buyer_managers_change_settings_and_others_do_not_see_them(world):
    viewer = _client(world.users["buyer_viewer"])
    response = viewer.post(
        "/escalations/settings/",
        {"action": "add_contact", "name": "Eve", "email": "eve@b.test", "level": "1"},
    )
    assert response.status_code == 403
    for role in ("qc_lead", "supplier_user", "coordinator"):
        assert _client(world.users[role]).get("/escalations/settings/").status_code == 404
