"""Tracking load: many jobs in flight at once, each with a long inference, one tracker process.

A simulator runs in this process (queue 0 s, run 30 s by default). `manage.py track` runs as
a separate process with the same environment, so its CPU can be read from /proc (psutil);
then N `Generation` rows are created at once, as Generate leaves them, and the tracker sends
them itself (studio.sending), watches and collects them. When every job is final, the
tracker gets SIGTERM.

Figures: detection delay (the simulator's own completion time -> our `completed_at`),
tracker CPU in cores (user+sys CPU seconds / wall seconds) while only polling and over the
whole run, whole-machine busy cores, and how many status requests the simulator answered.

    python bench/tracking_load.py                          # 1000 jobs, 30 s, SQLite
    python bench/tracking_load.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    python bench/tracking_load.py --jobs 200 --run 10      # quick look
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    MODEL_ID, REPO, ScratchPostgres, bench_user, create_generations, dist_ms, generation_rows, machine_busy, print_table,
    children_cpu, process_cpu, setup_django, sim_completed_wall, temp_dir, wait_for_thumbnails,
    wait_until_final,
)

from fal.simulator import Simulator, SimulatorConfig  # noqa: E402


class CpuSampler(threading.Thread):
    """Every `every` seconds: (wall time, tracker CPU s, machine busy CPU s, status polls so far)."""

    def __init__(self, pid: int, polls, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.polls = polls
        self.every = every
        self.samples: list[tuple[float, float, float, int]] = []
        self.stop = threading.Event()
        self.helper_cpu = 0.0

    def sample(self) -> float:
        times = self.process.cpu_times()
        now = time.time()
        self.samples.append((now, times.user + times.system, machine_busy(), self.polls()))
        self.helper_cpu = children_cpu(self.process.pid)  # the thumbnail worker process, so far
        return now

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.sample()

    def window(self, start: float, end: float) -> dict[str, float]:
        """Between two wall times: tracker cores, machine busy cores, status polls/s, tracker CPU ms per poll."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return {"cores": float("nan"), "machine": float("nan"), "polls_per_s": float("nan"), "ms_per_poll": float("nan")}
        (t0, c0, m0, p0), (t1, c1, m1, p1) = inside[0], inside[-1]
        return {"cores": (c1 - c0) / (t1 - t0), "machine": (m1 - m0) / (t1 - t0), "polls_per_s": (p1 - p0) / (t1 - t0),
                "ms_per_poll": 1000 * (c1 - c0) / max(1, p1 - p0)}

    def peak(self, window: float = 5.0) -> float:
        """Highest tracker cores over any `window`-second stretch."""
        best = 0.0
        for i, (t0, c0, _, _) in enumerate(self.samples):
            for t1, c1, _, _ in self.samples[i + 1:]:
                if t1 - t0 >= window:
                    best = max(best, (c1 - c0) / (t1 - t0))
                    break
        return best


def start_tracker(env: dict[str, str], log_path: str, args: argparse.Namespace) -> subprocess.Popen:
    # --skip-checks: the tracker needs no URL or view checks (and half-edited views must not stop it).
    command = [sys.executable, str(REPO / "manage.py"), "track", "--skip-checks"]
    if args.concurrency:
        command += ["--concurrency", str(args.concurrency)]
    if args.collect_threads:
        command += ["--collect-threads", str(args.collect_threads)]
    if getattr(args, "thumbnail_processes", None) is not None:
        command += ["--thumbnail-processes", str(args.thumbnail_processes)]
    log = open(log_path, "w")
    tracker = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while "Tracking jobs" not in Path(log_path).read_text():
        if tracker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the tracker did not start:\n{Path(log_path).read_text()}")
        time.sleep(0.05)
    return tracker


def run(args: argparse.Namespace, workdir: str, database_url: str | None) -> dict:
    config = SimulatorConfig(queue_seconds=0, run_seconds=args.run)
    with Simulator(config) as sim:
        env = setup_django(os.path.join(workdir, "var"), sim.base_url, database_url)
        from django.db import connections

        from studio.models import Generation

        bench_user()
        connections.close_all()
        log_path = os.path.join(workdir, "tracker.log")
        tracker = start_tracker(env, log_path, args)
        request_ids: list[str] = []  # filled once all are submitted; polls count from then on

        def polls() -> int:  # status requests the simulator has answered for these jobs so far
            return sum(job.status_polls for job in map(sim.jobs.get, request_ids) if job is not None)

        sampler = CpuSampler(tracker.pid, polls)
        try:
            sessions_before = _pg_sessions(database_url)
            bench_cpu = process_cpu()
            started = sampler.sample()
            sampler.start()
            create_generations(args.jobs, prompt_token=f"[sim: queue=0, run={args.run:g}]",
                               image_size=args.image_size)
            wait_until_sent(args.jobs, timeout=300)
            request_ids.extend(Generation.objects.values_list("request_id", flat=True))
            submitted = sampler.sample()
            ended = wait_until_final(args.jobs, timeout=args.run + 600, poll=0.5)
            sampler.sample()
            thumbnails_at = wait_for_thumbnails(timeout=300, poll=0.5)
            sampler.sample()
            bench_cpu = process_cpu() - bench_cpu
            sessions = _pg_sessions(database_url) - sessions_before if database_url else None
        finally:
            sampler.stop.set()
            tracker.terminate()
            try:
                tracker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                tracker.kill()
                tracker.wait()

        rows = generation_rows()
        done = [row for row in rows if row["state"] == "done"]
        detect, save, polls, upstream_done = [], [], [], []
        for row in rows:
            upstream = sim_completed_wall(sim, row["request_id"])
            job = sim.jobs.get(row["request_id"])
            if upstream is None or job is None:
                continue
            upstream_done.append(upstream)
            polls.append(job.status_polls)
            if row["completed_at"]:
                detect.append(row["completed_at"].timestamp() - upstream)
            if row["state"] == "done":
                save.append(row["finished_at"].timestamp() - upstream)
        first_upstream_done = min(upstream_done)
        polling = sampler.window(submitted, first_upstream_done)
        overall = sampler.window(started, ended)
        errors = [line for line in Path(log_path).read_text().splitlines() if "ERROR" in line or "Traceback" in line]
        if errors:
            print(f"--- tracker log (errors found) ---\n{Path(log_path).read_text()[-6000:]}", file=sys.stderr)
        connections.close_all()
    return {
        "done": len(done), "not_done": len(rows) - len(done), "detect": detect, "save": save,
        "status_requests": sum(polls), "polls_per_job": sum(polls) / max(1, len(polls)),
        "submit_wall": submitted - started, "run_wall": ended - started,
        "polling_cores": polling, "overall_cores": overall, "peak_cores": sampler.peak(),
        "bench_cores": bench_cpu / (ended - started), "sessions": sessions, "tracker_errors": errors,
        "tracker_options": _options_from_log(log_path), "helper_cpu": sampler.helper_cpu,
        "thumbnails_after": thumbnails_at - ended,
    }


def wait_until_sent(count: int, timeout: float) -> None:
    from studio.models import Generation

    deadline = time.monotonic() + timeout
    while Generation.objects.exclude(request_id="").count() < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"timeout: not every job was sent after {timeout:.0f}s")
        time.sleep(0.1)


def _options_from_log(log_path: str) -> str:
    found = re.search(r"Tracking jobs with (.*?)\. Ctrl-C", Path(log_path).read_text())
    return found.group(1) if found else "?"


def _pg_sessions(database_url: str | None) -> int:
    """Connections ever opened to the scratch database (PostgreSQL 14+ counts them)."""
    if not database_url:
        return 0
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        (count,) = cursor.fetchone()
    connection.close()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--run", type=float, default=30.0, help="simulated inference seconds per job (default 30)")
    parser.add_argument("--image-size", default="square", help="fal image_size preset (default square = 512x512)")
    parser.add_argument("--concurrency", type=int, help="manage.py track --concurrency (default: the command's own)")
    parser.add_argument("--collect-threads", type=int, help="manage.py track --collect-threads (default: its own)")
    parser.add_argument("--database-url", help="PostgreSQL server to create a scratch database on, e.g. "
                        "postgres://postgres@127.0.0.1:5432/postgres (default: SQLite in a temp dir)")
    args = parser.parse_args()

    with temp_dir("atelier-track-") as workdir, contextlib.ExitStack() as stack:
        database_url = stack.enter_context(ScratchPostgres(args.database_url)) if args.database_url else None
        f = run(args, workdir, database_url)

    polling, overall = f["polling_cores"], f["overall_cores"]
    cpus = psutil.cpu_count()
    rows = [
        ("jobs done", f"{f['done']} of {args.jobs}" + (f"  ({f['not_done']} NOT done)" if f["not_done"] else "")),
        ("sending all (the tracker)", f"{f['submit_wall']:.1f} s"),
        ("first submit -> all final", f"{f['run_wall']:.1f} s"),
        ("detection delay (upstream done -> completed_at)", dist_ms(f["detect"])),
        ("upstream done -> assets saved", dist_ms(f["save"])),
        ("tracker CPU while only polling", f"{polling['cores']:.2f} cores  (machine busy {polling['machine']:.2f} "
                                           f"of {cpus}); {polling['polls_per_s']:.0f} polls/s, "
                                           f"{polling['ms_per_poll']:.1f} ms CPU per poll"),
        ("tracker CPU over the whole run", f"{overall['cores']:.2f} cores  (machine busy {overall['machine']:.2f}); "
                                           f"peak 5 s: {f['peak_cores']:.2f}"),
        ("thumbnail worker process CPU", f"{f['helper_cpu']:.1f} s in all; the last thumbnail "
                                         f"{f['thumbnails_after']:.1f} s after the last save"),
        ("bench process CPU (simulator + submits)", f"{f['bench_cores']:.2f} cores"),
        ("status requests answered", f"{f['status_requests']}  ({f['polls_per_job']:.1f} per job)"),
    ]
    if f["sessions"] is not None:
        rows.append(("PostgreSQL connections opened", str(f["sessions"])))
    if f["tracker_errors"]:
        rows.append(("tracker log errors", f"{len(f['tracker_errors'])}: {f['tracker_errors'][0][:150]}"))
    database = "PostgreSQL" if args.database_url else "SQLite"
    print_table(f"{args.jobs} jobs in flight, {MODEL_ID}, image_size={args.image_size}, queue 0 s, run {args.run:g} s, "
                f"{database}, tracker: {f['tracker_options']}; goals: p95 detection <= 2 s, tracker < 1 core", rows)


if __name__ == "__main__":
    main()
