"""Housekeeping sweeps."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .sweeper import sweep

TASK_RESULT_RETENTION = timedelta(days=14)


@sweep("expired sessions")
def delete_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@sweep("old task results")
def delete_old_task_results() -> int:
    """Finished background jobs are kept two weeks for troubleshooting, then dropped."""
    cutoff = timezone.now() - TASK_RESULT_RETENTION
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
