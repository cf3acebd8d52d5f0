"""`manage.py track`: watch jobs in flight and save their outputs (see studio.tracker)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from studio.tracker import run_forever


class Command(BaseCommand):
    help = "Track generation jobs in flight: poll fal, then download and keep every output."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--threads", type=int, default=8, help="Jobs looked at concurrently (default 8: more threads only fight over the GIL; measured in bench/).")

    def handle(self, *args, threads: int, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Tracking jobs with {threads} threads. Ctrl-C stops.")
        run_forever(threads=threads, stop=stop)
