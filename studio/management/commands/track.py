"""`manage.py track`: watch jobs in flight and save their outputs (see studio.tracker)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from studio import tracker


class Command(BaseCommand):
    help = "Track generation jobs in flight: poll fal, then download and keep every output."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--concurrency", type=int, default=tracker.CONCURRENCY,
                            help=f"Status requests in the air at once (default {tracker.CONCURRENCY}).")
        parser.add_argument("--collect-threads", type=int, default=tracker.COLLECT_THREADS,
                            help=f"Jobs downloaded and saved at once (default {tracker.COLLECT_THREADS}).")
        parser.add_argument("--threads", type=int, dest="collect_threads",
                            help="The same as --collect-threads (its older name; looks no longer need threads).")
        parser.add_argument("--thumbnail-processes", type=int, default=1,
                            help="Worker processes making thumbnails after outputs are saved (default 1).")

    def handle(self, *args, concurrency: int, collect_threads: int, thumbnail_processes: int, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Tracking jobs with {concurrency} status requests at once, {collect_threads} collecting "
                          f"threads, {thumbnail_processes} thumbnail processes. Ctrl-C stops.")
        self.stdout.flush()
        tracker.run_forever(stop=stop, concurrency=concurrency, collect_threads=collect_threads,
                            preview_processes=thumbnail_processes)
