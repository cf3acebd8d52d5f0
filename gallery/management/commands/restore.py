"""`manage.py restore PATH`: load a backup into an empty Atelier (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError

from gallery.backup import BackupError, describe, human_bytes, restore_backup, summary_lines


class Command(BaseCommand):
    help = ("Restore a backup made by `manage.py backup` into an empty Atelier: checks the whole "
            "archive first, then migrates, loads the data and puts the media files in place.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The .tar.gz archive written by `manage.py backup`.")
        parser.add_argument("--force", action="store_true",
                            help="Restore even though this Atelier already holds data: everything the "
                                 "backup covers (people, generations, the gallery…) is replaced.")

    def handle(self, *args, path: Path, force: bool, **options) -> None:
        say = (lambda message: self.stdout.write(message)) if options["verbosity"] >= 1 else (lambda message: None)
        try:
            result = restore_backup(path, force=force, say=say)
        except BackupError as error:
            raise CommandError(str(error)) from None
        except OperationalError as error:  # the database is unreachable, locked, or out of space
            raise CommandError(f"The database refused: {str(error).strip().splitlines()[0]}. Check DATABASE_URL "
                               "and that nothing else holds the database.") from None
        action = "replaced this Atelier's data" if result.replaced else "restored"
        self.stdout.write(self.style.SUCCESS(f"{path.name} {action} ({describe(result.manifest)}):"))
        for line in summary_lines(result.counts):
            self.stdout.write(line)
        self.stdout.write(f"  {result.media_files:>7}  media files ({human_bytes(result.media_bytes)})")
        for name in result.missing_files:
            self.stderr.write(self.style.WARNING(f"Missing file: {name} was already missing when the backup "
                                                 "was made."))
        self.stdout.write("Prompt search is up to date. Everyone signs in again, with their old password.")
