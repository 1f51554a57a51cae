"""Escalations are raised with the finding, in its transaction, once per finding."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from qcloop.alerts import services
from qcloop.alerts.models import (
    Channel,
    ChannelKind,
    ChatStyle,
    Escalation,
    EscalationContact,
    EscalationKind,
    EscalationPolicy,
    Notification,
)
from qcloop.inspections.recording import record_defect, record_production
from qcloop.testing import start_inspection, submit_inspection_of

pytestmark = pytest.mark.django_db


def _targets(escalation) -> set[tuple[str, str, int]]:
    return set(
        Notification.objects.filter(escalation=escalation).values_list(
            "channel_kind", "target", "round"
        )
    )


def test_a_critical_defect_escalates_at_once_to_the_buyer_and_the_qc_lead(world):
    milestone = start_inspection(world, "DUPRO")
    defect = record_defect(
        by=world.inspector,
        milestone=milestone,
        quantity=1,
        description="Live part reachable through the lamp holder",
        defect_class="critical",
    )
    escalation = Escalation.objects.get()
    assert escalation.kind == EscalationKind.CRITICAL
    assert escalation.source == f"defect:{defect.uuid}"
    assert escalation.po == world.po and escalation.buyer == world.buyer
    assert "Live part" in escalation.detail["summary"]
    # With no contacts named, the buyer's managers (and admins) are told, and the QC lead.
    manager = world.users["buyer_manager"]
    assert _targets(escalation) == {("email", manager.email, 1), ("email", world.qc_lead.email, 1)}
    assert all(n.next_attempt_at <= timezone.now() for n in escalation.notifications.all())
    assert escalation.ack_due_at == escalation.raised_at + timedelta(minutes=120)


def test_a_major_defect_does_not_escalate(world):
    milestone = start_inspection(world, "DUPRO")
    record_defect(
        by=world.inspector,
        milestone=milestone,
        quantity=1,
        description="Scratch",
        defect_class="major",
    )
    assert not Escalation.objects.exists()


def test_a_retried_upload_raises_nothing_twice(world):
    milestone = start_inspection(world, "DUPRO")
    kwargs = dict(
        by=world.inspector,
        milestone=milestone,
        quantity=1,
        description="Sharp edge on the base",
        defect_class="critical",
        uuid="6f1d2b1e-6f36-4bf0-9c3f-2a0a9e1c7a11",
    )
    record_defect(**kwargs)
    record_defect(**kwargs)
    assert Escalation.objects.count() == 1
    assert Notification.objects.count() == 2


def test_the_buyers_channels_and_contacts_are_each_told(world):
    buyer = world.buyer
    EscalationContact.objects.create(buyer=buyer, level=1, name="Ana", email="ana@buyer.test")
    EscalationContact.objects.create(
        buyer=buyer, level=1, name="Ben", email="", phone="+85291234567"
    )
    EscalationContact.objects.create(buyer=buyer, level=2, name="Cy", email="cy@buyer.test")
    hook = Channel.objects.create(
        buyer=buyer, kind=ChannelKind.WEBHOOK, name="ERP", url="http://127.0.0.1:9/hook"
    )
    Channel.objects.create(
        buyer=buyer,
        kind=ChannelKind.CHAT,
        name="WhatsApp",
        url="http://127.0.0.1:9/wa",
        chat_style=ChatStyle.WHATSAPP,
    )
    Channel.objects.create(
        buyer=buyer,
        kind=ChannelKind.CHAT,
        name="QA room",
        url="http://127.0.0.1:9/teams",
        chat_style=ChatStyle.TEAMS,
        active=False,
    )
    milestone = start_inspection(world, "DUPRO")
    record_defect(
        by=world.inspector,
        milestone=milestone,
        quantity=2,
        description="Earth wire not connected",
        defect_class="critical",
    )
    escalation = Escalation.objects.get()
    # Level 1 only (Cy is level 2), the inactive Teams channel not at all.
    assert _targets(escalation) == {
        ("email", "ana@buyer.test", 1),
        ("email", world.qc_lead.email, 1),
        ("webhook", hook.url, 1),
        ("chat", "+85291234567", 1),
    }


def test_a_failed_milestone_escalates(world):
    submit_inspection_of(world, "DUPRO", defects=[("major", 30, "Loose shade screws")])
    milestone = world.milestones["DUPRO"]
    milestone.refresh_from_db()
    assert milestone.result == "fail"
    escalation = Escalation.objects.get(kind=EscalationKind.FAILED)
    assert escalation.source == f"milestone:{milestone.pk}:failed"
    assert "failed" in escalation.title


def test_production_late_beyond_the_buyers_threshold_escalates(world):
    EscalationPolicy.objects.create(buyer=world.buyer, late_days=3)
    milestone = start_inspection(world, "DUPRO")
    po = world.po
    # Ten days in, a tenth of the order made: far past the ex-factory date at this pace.
    start = po.production_start or milestone.window_start
    record_production(
        by=world.inspector,
        milestone=milestone,
        counted_on=start + timedelta(days=10),
        produced=po.quantity // 20,
    )
    escalation = Escalation.objects.get(kind=EscalationKind.LATE)
    assert escalation.detail["late_by_days"] > 3
    # Counted again (a correction): still one escalation.
    record_production(
        by=world.inspector,
        milestone=milestone,
        counted_on=start + timedelta(days=10),
        produced=po.quantity // 25,
    )
    assert Escalation.objects.filter(kind=EscalationKind.LATE).count() == 1


def test_production_late_within_the_threshold_does_not_escalate(world):
    EscalationPolicy.objects.create(buyer=world.buyer, late_days=10_000)
    milestone = start_inspection(world, "DUPRO")
    start = world.po.production_start or milestone.window_start
    record_production(
        by=world.inspector,
        milestone=milestone,
        counted_on=start + timedelta(days=10),
        produced=world.po.quantity // 20,
    )
    assert not Escalation.objects.filter(kind=EscalationKind.LATE).exists()


def _critical(world):
    milestone = start_inspection(world, "DUPRO")
    record_defect(
        by=world.inspector,
        milestone=milestone,
        quantity=1,
        description="Exposed wire",
        defect_class="critical",
    )
    return Escalation.objects.get()


def test_unacknowledged_escalations_are_resent_and_raised_to_the_next_level(world):
    EscalationContact.objects.create(buyer=world.buyer, level=1, name="Ana", email="a@b.test")
    EscalationContact.objects.create(buyer=world.buyer, level=2, name="Cy", email="c@b.test")
    escalation = _critical(world)
    later = escalation.ack_due_at + timedelta(seconds=1)
    assert services.raise_unacknowledged(now=later) == 1
    assert services.raise_unacknowledged(now=later) == 0  # moved on once, whoever sweeps
    escalation.refresh_from_db()
    assert (escalation.level, escalation.round) == (2, 2)
    round_two = {t for kind, t, r in _targets(escalation) if r == 2}
    assert round_two == {"a@b.test", "c@b.test", world.qc_lead.email}
    assert escalation.ack_due_at == later + timedelta(minutes=120)


def test_an_acknowledged_escalation_is_not_raised(world):
    escalation = _critical(world)
    manager = world.users["buyer_manager"]
    assert services.acknowledge(escalation, by=manager) is True
    assert services.acknowledge(escalation, by=world.qc_lead) is False  # the first one counts
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == manager
    assert services.raise_unacknowledged(now=escalation.ack_due_at + timedelta(hours=1)) == 0


def test_suppliers_and_inspectors_do_not_acknowledge(world):
    escalation = _critical(world)
    for role in ("supplier_user", "inspector"):
        with pytest.raises(PermissionDenied):
            services.acknowledge(escalation, by=world.users[role])
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is None


def test_the_sweeper_keeps_the_escalation_and_capa_deadlines():
    from qcloop.core.sweeper import registered_sweeps

    assert set(registered_sweeps()) >= {
        "escalation notifications",
        "escalation acknowledgement",
        "overdue corrective actions",
    }
