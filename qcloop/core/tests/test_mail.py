"""Notifications leave through a real SMTP conversation with a server on loopback (the
`smtp_server` fixture of the root conftest.py)."""

from datetime import timedelta

import pytest

from qcloop.accounts.models import Role
from qcloop.inspections.services import update_milestone


@pytest.mark.django_db(transaction=True)
def test_a_booking_reaches_the_inspector_over_smtp(world, smtp_server, run_worker):
    run_worker()  # the QC lead's assignment mail, sent when the world was built
    assert [to for _, to, _ in smtp_server.messages] == [[world.qc_lead.email]]
    smtp_server.messages.clear()
    dupro = world.milestones["DUPRO"]
    update_milestone(
        by=world.user(Role.COORDINATOR),
        milestone=dupro,
        changes={"inspection_date": dupro.window_start + timedelta(days=1), "status": "booked"},
    )
    run_worker()
    [(_sender, recipients, content)] = smtp_server.messages
    assert recipients == [world.inspector.email]
    assert "Subject: [qcloop] DUPRO booked: PO PO-A-1001" in content
    assert "Plant A, 1 Industrial Rd, Zhongshan" in content
    assert f"/milestones/{dupro.pk}/" in content
