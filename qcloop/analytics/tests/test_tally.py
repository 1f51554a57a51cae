"""The tally of a published milestone: the figures the dashboard and the scorecards add up,
equal to the milestone's own records."""

from qcloop.analytics.models import MilestoneTally
from qcloop.core.tenancy import for_user
from qcloop.inspections.services import transition_milestone
from qcloop.testing import submit_inspection_of

DEFECTS = (
    ("major", 3, "Open seam"),
    ("major", 2, "open seam "),  # the same uncoded defect, typed again
    ("minor", 4, "Loose thread"),
    ("critical", 1, "Needle in hem"),
)


def publish(world, kind, defects=DEFECTS):
    milestone = submit_inspection_of(world, kind, defects=defects)
    transition_milestone(by=world.qc_lead, milestone=milestone, to="published")
    milestone.refresh_from_db()
    return milestone


def test_a_submitted_milestone_has_no_tally_until_published(world):
    submit_inspection_of(world, "PSI", defects=DEFECTS)
    assert not MilestoneTally.objects.exists()


def test_publishing_tallies_units_defects_per_class_and_per_code(world):
    psi = publish(world, "PSI")
    tally = MilestoneTally.objects.get(milestone=psi)
    # 3000 units at level II: code letter K, 125 units inspected (see start_inspection).
    assert tally.sampled_units == 125
    assert (tally.critical, tally.major, tally.minor) == (1, 5, 4)
    assert tally.codes["open seam"] == {"class": "major", "found": 5, "name": "Open seam"}
    assert tally.codes["loose thread"]["found"] == 4
    assert tally.result == psi.result
    assert (tally.po, tally.supplier, tally.factory) == (world.po, world.supplier, world.factory)
    assert tally.buyer == world.buyer
    assert tally.category == world.product.category
    assert tally.market == world.po.destination_market
    assert tally.inspected_on == psi.inspection_date
    assert (tally.kind, tally.sequence) == ("PSI", 1)


def test_an_unsampled_milestone_is_tallied_with_no_units(world):
    ipc = publish(world, "IPC", defects=(("minor", 1, "Shade variation"),))
    tally = MilestoneTally.objects.get(milestone=ipc)
    assert tally.sampled_units == 0
    assert tally.minor == 1


def test_tallies_are_seen_only_by_whoever_sees_the_po(world, other_world):
    publish(world, "PSI")
    for role in ("buyer_manager", "coordinator", "supplier_user"):
        assert for_user(MilestoneTally, world.user(role)).count() == 1
    for user in other_world.users.values():
        assert not for_user(MilestoneTally, user).exists()
    # The inspector of the world's agency sees only the milestones assigned to them.
    assert for_user(MilestoneTally, world.inspector).count() == 1


def test_the_rebuild_command_rewrites_every_tally_from_the_records(world):
    from io import StringIO

    from django.core.management import call_command

    psi = publish(world, "PSI")
    MilestoneTally.objects.filter(milestone=psi).update(major=99)
    out = StringIO()
    call_command("rebuild_analytics", stdout=out)
    assert MilestoneTally.objects.get(milestone=psi).major == 5
    assert "Rebuilt 1 milestone tallies" in out.getvalue()
