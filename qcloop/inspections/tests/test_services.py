"""The milestone workflow: who may move a milestone where, and what booking requires."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qcloop.accounts.models import Role
from qcloop.inspections.models import MilestoneStatus as S
from qcloop.inspections.services import add_milestone, transition_milestone, update_milestone

pytestmark = pytest.mark.django_db


def book(world, milestone, by=None):
    return update_milestone(
        by=by or world.user(Role.COORDINATOR),
        milestone=milestone,
        changes={
            "inspection_date": date.today() + timedelta(days=3),
            "inspector": world.inspector,
            "status": S.BOOKED,
        },
    )


def test_the_whole_workflow_by_the_right_people(world):
    dupro = book(world, world.milestones["DUPRO"])
    assert dupro.status == S.BOOKED
    dupro = transition_milestone(by=world.inspector, milestone=dupro, to=S.IN_PROGRESS)
    assert dupro.started_at is not None
    dupro = transition_milestone(by=world.inspector, milestone=dupro, to=S.SUBMITTED)
    dupro = transition_milestone(by=world.qc_lead, milestone=dupro, to=S.IN_PROGRESS)  # sent back
    dupro = transition_milestone(by=world.inspector, milestone=dupro, to=S.SUBMITTED)
    dupro = transition_milestone(by=world.qc_lead, milestone=dupro, to=S.PUBLISHED)
    assert dupro.status == S.PUBLISHED and dupro.published_at and dupro.submitted_at


def test_booking_needs_a_date_and_an_inspector(world):
    with pytest.raises(ValidationError) as caught:
        transition_milestone(
            by=world.user(Role.COORDINATOR), milestone=world.milestones["IPC"], to=S.BOOKED
        )
    assert list(caught.value.message_dict) == ["inspection_date"]


def test_the_inspector_must_belong_to_the_monitoring_agency(world, other_world):
    with pytest.raises(ValidationError) as caught:
        update_milestone(
            by=world.user(Role.COORDINATOR),
            milestone=world.milestones["IPC"],
            changes={"inspector": other_world.inspector},
        )
    assert list(caught.value.message_dict) == ["inspector"]
    world.milestones["IPC"].refresh_from_db()
    assert world.milestones["IPC"].inspector is None


def test_a_published_milestone_is_final(world):
    dupro = book(world, world.milestones["DUPRO"])
    for to, by in [
        (S.IN_PROGRESS, world.inspector),
        (S.SUBMITTED, world.inspector),
        (S.PUBLISHED, world.qc_lead),
    ]:
        dupro = transition_milestone(by=by, milestone=dupro, to=to)
    for to in [S.PLANNED, S.CANCELLED, S.IN_PROGRESS]:
        with pytest.raises(ValidationError, match="cannot become"):
            transition_milestone(by=world.qc_lead, milestone=dupro, to=to)


def test_skipping_steps_is_refused(world):
    with pytest.raises(ValidationError, match="A planned milestone cannot become submitted"):
        transition_milestone(by=world.qc_lead, milestone=world.milestones["IPC"], to=S.SUBMITTED)


def test_unknown_status_is_refused(world):
    with pytest.raises(ValidationError, match="Unknown status 'done'"):
        transition_milestone(by=world.qc_lead, milestone=world.milestones["IPC"], to="done")


@pytest.mark.parametrize("role", [Role.BUYER_MANAGER, Role.SUPPLIER_USER, Role.INSPECTOR])
def test_only_the_agency_plans_and_books(world, role):
    with pytest.raises(PermissionDenied):
        book(world, world.milestones["DUPRO"], by=world.user(role))


def test_only_the_qc_lead_publishes(world):
    dupro = book(world, world.milestones["DUPRO"])
    dupro = transition_milestone(by=world.inspector, milestone=dupro, to=S.IN_PROGRESS)
    dupro = transition_milestone(by=world.inspector, milestone=dupro, to=S.SUBMITTED)
    for role in [Role.INSPECTOR, Role.COORDINATOR, Role.BUYER_MANAGER]:
        with pytest.raises(PermissionDenied):
            transition_milestone(by=world.user(role), milestone=dupro, to=S.PUBLISHED)


def test_only_the_assigned_inspector_starts(world):
    from qcloop.accounts.services import add_member

    dupro = book(world, world.milestones["DUPRO"])
    other = add_member(
        organisation=world.agency,
        email="i2@example.com",
        full_name="Other Insp",
        role=Role.INSPECTOR,
    )
    with pytest.raises(PermissionDenied):
        transition_milestone(by=other, milestone=dupro, to=S.IN_PROGRESS)


def test_a_window_that_ends_before_it_starts_is_refused(world):
    ipc = world.milestones["IPC"]
    with pytest.raises(ValidationError) as caught:
        update_milestone(
            by=world.qc_lead,
            milestone=ipc,
            changes={"window_end": ipc.window_start - timedelta(days=1)},
        )
    assert list(caught.value.message_dict) == ["window_end"]


def test_a_re_inspection_is_the_next_sequence(world):
    psi2 = add_milestone(
        by=world.qc_lead,
        po=world.po,
        kind="PSI",
        window_start=date.today(),
        window_end=date.today(),
    )
    assert (psi2.kind, psi2.sequence, psi2.label) == ("PSI", 2, "PSI #2")


@pytest.mark.django_db(transaction=True)
def test_booking_mails_the_inspector(world, mailoutbox, run_worker):
    run_worker()  # the QC lead's assignment mail, sent when the world was built
    mailoutbox.clear()
    book(world, world.milestones["DUPRO"])
    run_worker()
    assert [m.to for m in mailoutbox] == [[world.inspector.email]]
    assert "DUPRO booked: PO PO-A-1001" in mailoutbox[0].subject


@pytest.mark.django_db(transaction=True)
def test_booking_a_past_date_sends_no_mail(world, mailoutbox, run_worker):
    run_worker()
    mailoutbox.clear()
    update_milestone(
        by=world.qc_lead,
        milestone=world.milestones["IPC"],
        changes={
            "inspection_date": date.today() - timedelta(days=30),
            "inspector": world.inspector,
            "status": S.BOOKED,
        },
    )
    run_worker()
    assert mailoutbox == []
