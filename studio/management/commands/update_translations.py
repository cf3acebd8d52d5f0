"""Update the translation catalogues from the sources and compile them (pure Python, no gettext).

    manage.py update_translations          # regenerate, merge, compile; list what needs translating
    manage.py update_translations --check  # change nothing; fail if anything is missing or stale
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Find every translatable string, update locale/*/LC_MESSAGES/django.po, and compile the .mo files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Change nothing; fail when a translation is missing.")

    def handle(self, *args, check: bool = False, **options) -> None:
        try:
            from atelier import translations
        except ImportError as error:
            raise CommandError(f"Babel is needed for this command: make install-test ({error}).") from None
        from studio.catalogue.translatable import STRINGS_PATH, strings_module_text, write_strings_module

        if check:
            problems = translations.problems()
            if STRINGS_PATH.read_text(encoding="utf-8") != strings_module_text():
                problems.insert(0, f"{STRINGS_PATH.name} is out of date with builtin.toml.")
            if problems:
                raise CommandError("\n".join(problems))
            self.stdout.write("Every string has a translation.")
            return
        if write_strings_module():
            self.stdout.write(f"Rewrote {STRINGS_PATH.name} from builtin.toml.")
        for language, untranslated in translations.update_catalogues().items():
            path = translations.po_path(language)
            if untranslated:
                self.stdout.write(f"{path}: {len(untranslated)} string(s) to translate:")
                for text in untranslated:
                    self.stdout.write(f"  {text}")
            else:
                self.stdout.write(f"{path}: complete, compiled.")
