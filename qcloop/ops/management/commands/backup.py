"""`qcloop manage backup PATH`: the whole instance, rows and files, into one archive."""

from django.core.management.base import BaseCommand, CommandError

from qcloop.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Write every row and every stored file to one archive at PATH (.tar, or .tar.gz to "
        "compress), read in one consistent snapshot. See docs/backup.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive to write: PATH.tar or PATH.tar.gz")

    def handle(self, *args, path, **options):
        try:
            outcome = backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(outcome.describe("Backed up"))
