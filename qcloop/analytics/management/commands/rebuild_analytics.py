"""Rewrite the analytics' derived data (milestone tallies and trend flags) from the records.

Tallies and flags are written as milestones are published; this command rebuilds them for a
database that has published milestones from before the analytics existed, or after a change
to how they are computed. It replays the publications in the order they happened, so that
each trend flag sees the history its milestone saw."""

from django.core.management.base import BaseCommand
from django.db import transaction

from qcloop.analytics.models import MilestoneTally, TrendFlag
from qcloop.analytics.services import record_published
from qcloop.inspections.models import Milestone, MilestoneStatus


class Command(BaseCommand):
    help = "Rebuild the milestone tallies and trend flags from the published milestones."

    def handle(self, *args, **options):
        published = (
            Milestone.objects.filter(status=MilestoneStatus.PUBLISHED)
            .select_related("po")
            .order_by("published_at", "id")
        )
        with transaction.atomic():
            TrendFlag.objects.all().delete()
            MilestoneTally.objects.all().delete()
            count = 0
            for milestone in published.iterator(chunk_size=500):
                record_published(milestone)
                count += 1
        flags = TrendFlag.objects.count()
        self.stdout.write(f"Rebuilt {count} milestone tallies and {flags} trend flags.")
