"""`manage.py track`: watch jobs in flight and save their outputs (see studio.tracker)."""

from __future__ import annotations

import os
import signal
import threading

from django.core.management.base import BaseCommand

from studio import tracker

# Added to the tracker's Unix niceness (its thumbnail processes add theirs on top): on a
# machine it shares with the web server, a person's click or job-card poll comes first,
# and the tracker takes the CPU they leave (bench/load_job_cards.py).
NICENESS = 5


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
        parser.add_argument("--niceness", type=int, default=NICENESS,
                            help=f"Added to this process's Unix niceness, so the web server comes first "
                                 f"(default {NICENESS}; 0 keeps the priority it was started with).")

    def handle(self, *args, concurrency: int, collect_threads: int, thumbnail_processes: int, niceness: int,
               **options) -> None:
        if niceness:
            os.nice(niceness)  # before any thread starts: threads and child processes inherit it
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Tracking jobs with {concurrency} status requests at once, {collect_threads} collecting "
                          f"threads, {thumbnail_processes} thumbnail processes. Ctrl-C stops.")
        self.stdout.flush()
        tracker.run_forever(stop=stop, concurrency=concurrency, collect_threads=collect_threads,
                            preview_processes=thumbnail_processes)
