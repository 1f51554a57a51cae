import pytest

from qcloop.alerts.models import Escalation
from qcloop.inspections.recording import record_defect
from qcloop.testing import start_inspection


@pytest.fixture
def escalation(world) -> Escalation:
    """The world's DUPRO finds a critical defect: its escalation, notifications waiting."""
    milestone = start_inspection(world, "DUPRO")
    record_defect(
        by=world.inspector,
        milestone=milestone,
        quantity=1,
        description="Mains cable pulls out of the strain relief",
        defect_class="critical",
    )
    return Escalation.objects.get()
