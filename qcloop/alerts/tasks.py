"""Background work of escalations: sending a new escalation's notifications at once."""

from django.tasks import task


@task()
def send_escalation(escalation_id: int) -> int:
    """Hand the escalation's due notifications to their channels; the sweeper catches up with
    whatever this misses (a worker that died, a channel that was down)."""
    from .delivery import send_due

    return send_due(escalation_id=escalation_id)
