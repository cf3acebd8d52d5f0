"""`manage.py backup`: the database and every media file in one .tar.gz (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError

from gallery.backup import BackupError, create_backup, human_bytes, summary_lines


class Command(BaseCommand):
    help = ("Write the database and every media file into one .tar.gz archive "
            "(default: var/backups/atelier-<UTC time>.tar.gz).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, default=None,
                            help="File to write, or a folder to write the default name into. "
                                 "An existing file is never overwritten.")

    def handle(self, *args, output: Path | None, **options) -> None:
        try:
            result = create_backup(output, warn=lambda message: self.stderr.write(self.style.WARNING(message)))
        except BackupError as error:
            raise CommandError(str(error)) from None
        except OperationalError as error:  # the database is unreachable, locked, or out of space
            raise CommandError(f"The database refused: {str(error).strip().splitlines()[0]}. Check DATABASE_URL "
                               "and that nothing else holds the database.") from None
        self.stdout.write(self.style.SUCCESS(f"Backup written to {result.path} ({human_bytes(result.bytes)})."))
        for line in summary_lines(result.counts):
            self.stdout.write(line)
        self.stdout.write(f"  {result.media_files:>7}  media files ({human_bytes(result.media_bytes)})")
        if result.missing_files or result.skipped:
            self.stderr.write(self.style.WARNING(
                f"{len(result.missing_files)} file(s) named in the database were missing and "
                f"{len(result.skipped)} were skipped: see the lines above."))
