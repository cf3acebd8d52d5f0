#!/usr/bin/env python
"""Django's command-line utility for Atelier."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atelier.settings")
    from django.core.management import execute_from_command_line

    from atelier.env import SettingError

    try:
        execute_from_command_line(sys.argv)
    except SettingError as exc:
        # A configuration mistake deserves one clear line, not a traceback.
        sys.exit(f"Atelier cannot start. {exc}")


if __name__ == "__main__":
    main()
