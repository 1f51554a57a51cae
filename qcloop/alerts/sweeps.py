"""The escalation deadlines the sweeper keeps: notifications due (new, or failed and due
again), and escalations nobody acknowledged in time."""

from qcloop.core.sweeper import sweep

from . import delivery, services


@sweep("escalation notifications")
def send_due_notifications() -> int:
    return delivery.send_due()


@sweep("escalation acknowledgement")
def raise_unacknowledged() -> int:
    return services.raise_unacknowledged()
