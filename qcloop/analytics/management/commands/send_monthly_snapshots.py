"""Send last month's program snapshot to every buyer that has not had it yet.

Run it daily from cron (`qcloop manage send_monthly_snapshots`): it sends each buyer's month
once, on the first run after the month ends in the buyer's time zone, and takes up a failed
send again on the next run."""

from django.core.management.base import BaseCommand, CommandError

from qcloop.analytics.snapshot import send_monthly_snapshots


class Command(BaseCommand):
    help = "Email last month's program snapshot to every buyer, once per buyer and month."

    def handle(self, *args, **options):
        sent = send_monthly_snapshots()
        for record in sent:
            outcome = "sent" if not record.error else f"failed ({record.error})"
            self.stdout.write(
                f"{record.buyer} {record.month:%Y-%m}: {outcome} to "
                f"{len(record.delivered)} of {len(record.recipients)} recipients"
            )
        if not sent:
            self.stdout.write("Nothing to send: every buyer has had last month's snapshot.")
        if any(record.error for record in sent):
            raise CommandError("Some snapshots failed; the next run tries them again.")
