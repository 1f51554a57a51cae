"""Escalations over the API: the history with filters, one escalation with its notifications
and tries, acknowledging it (once), and sending a notification again."""

import pytest
from django.test import Client

from qcloop.accounts.services import create_api_token
from qcloop.alerts.models import NotificationStatus

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    _, token = create_api_token(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_buyer_reads_acknowledges_and_replays_over_the_api(world, escalation):
    buyer = api(world.users["buyer_manager"])
    for query in ("", f"?po={world.po.pk}", f"?supplier={world.supplier.pk}", "?open=true"):
        rows = buyer.get(f"/api/escalations{query}").json()
        assert [row["id"] for row in rows] == [escalation.pk], query
    assert buyer.get(f"/api/escalations?po={world.po.pk + 999}").json() == []
    detail = buyer.get(f"/api/escalations/{escalation.pk}").json()
    assert detail["kind"] == "critical" and detail["po_number"] == world.po.number
    targets = {n["target"] for n in detail["notifications"]}
    assert {world.qc_lead.email, world.users["buyer_manager"].email} <= targets
    acknowledged = buyer.post(f"/api/escalations/{escalation.pk}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_via"] == "api"
    first_at = acknowledged.json()["acknowledged_at"]
    again = api(world.qc_lead).post(f"/api/escalations/{escalation.pk}/acknowledge").json()
    assert again["acknowledged_at"] == first_at  # the first acknowledgement is kept
    assert buyer.get("/api/escalations?open=true").json() == []
    notification = escalation.notifications.first()
    notification.status = NotificationStatus.SENT
    notification.save()
    replayed = buyer.post(
        f"/api/escalations/{escalation.pk}/notifications/{notification.pk}/replay"
    )
    assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
    notification.status = NotificationStatus.SENDING
    notification.save()
    busy = buyer.post(f"/api/escalations/{escalation.pk}/notifications/{notification.pk}/replay")
    assert busy.status_code == 409


def test_suppliers_and_inspectors_may_not_act_on_escalations(world, escalation):
    assert api(world.users["supplier_user"]).get("/api/escalations").json() == []
    supplier = api(world.users["supplier_user"])
    assert supplier.get(f"/api/escalations/{escalation.pk}").status_code == 404
    inspector = api(world.inspector)
    assert inspector.post(f"/api/escalations/{escalation.pk}/acknowledge").status_code == 403
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is None
