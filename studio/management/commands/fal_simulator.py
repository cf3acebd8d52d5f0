"""``manage.py fal_simulator``: run the fal simulator (a thin wrapper over fal.simulator.cli)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fal.simulator.cli import add_arguments, config_from_options, run


class Command(BaseCommand):
    help = "Serve the fal-compatible simulator until Ctrl-C."
    requires_system_checks: list[str] = []  # it must start even while the fal settings are incomplete

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        config = config_from_options(options, verbose=options["verbosity"] >= 2)
        run(config, lambda line: self.stdout.write(line))
