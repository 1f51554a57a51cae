"""`qcloop manage restore PATH`: an archive of `backup` into an empty instance, any engine."""

from django.core.management.base import BaseCommand, CommandError

from qcloop.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Migrate this instance's database and load an archive made by `backup` into it: every "
        "row with its primary key and every file under its name. Refuses an instance that "
        "already holds data unless --force. See docs/backup.md."
    )
    # The archive is verified before the database is opened; the system checks would open it
    # first (and create an empty SQLite file) even for an archive that is then refused.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive made by `backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace whatever this instance holds (every row is deleted first)",
        )

    def handle(self, *args, path, force=False, verbosity=1, **options):
        try:
            outcome = restore(path, force=force, stdout=self.stdout, verbosity=verbosity)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(outcome.describe("Restored"))
