"""Throughput: N jobs submitted at once, zero queue/inference time, until every output is saved.

Atelier's path: a simulator (queue 0 s, run 0 s) in a process of its own, a throw-away SQLite
database and media folder, the tracker (`studio.tracker.run_forever` in a thread, or with
--tracker-process `manage.py track` as deployed, with its thumbnail worker process), then N
`Generation` rows created at once as the studio view leaves them. The tracker sends them (jobs
without input images need no task worker, see studio.sending), checks and collects them,
until every job is final. Then the baseline with the official fal-client
(bench/fal_client_baseline.py) does the same jobs, and the ratio of wall times is printed.

    python bench/generate_throughput.py                      # 200 jobs, square (512x512)
    python bench/generate_throughput.py --atelier-tls        # Atelier over HTTPS too, like the baseline
    python bench/generate_throughput.py --jobs 50 --no-baseline     # quick look
    python bench/generate_throughput.py --tracker-process    # as `make run` runs it
    python bench/generate_throughput.py --rounds 5 ...       # 5 runs, each in a fresh process: medians
    python bench/generate_throughput.py --tracker-process --no-baseline --submit-latency 0.15  # fal's real latency
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    MODEL_ID, ScratchPostgres, bench_user, create_generations, dist_ms, generation_rows, machine_busy, print_table,
    children_cpu, completed_walls, summary, process_cpu, process_tree_cpu, setup_django, status_polls, temp_dir,
    wait_for_thumbnails, wait_until_final,
)
from _simulator_process import zero_time_simulator  # noqa: E402



def run_atelier(args: argparse.Namespace, workdir: str, database_url: str | None = None) -> dict:
    tls_dir = None
    if args.atelier_tls:
        tls_dir = os.path.join(workdir, "atelier-tls")
        os.mkdir(tls_dir)
    with zero_time_simulator(in_process=args.simulator_in_process, tls_dir=tls_dir) as (sim, ca_path):
        if ca_path:
            os.environ["SSL_CERT_FILE"] = ca_path
        sim_cpu = (lambda: process_tree_cpu(sim.pid)) if hasattr(sim, "pid") else (lambda: 0.0)
        env = setup_django(os.path.join(workdir, "var"), sim.base_url, database_url)
        from django.db import connections

        from gallery.models import Asset
        from studio.tracker import run_forever

        stop = threading.Event()
        options = {name: value for name, value in (("collect_threads", args.collect_threads),
                                                   ("concurrency", args.concurrency)) if value}
        if args.tracker_process:  # as deployed: `manage.py track` in a process of its own
            import psutil
            from tracking_load import start_tracker

            child = start_tracker({**env, **({"SSL_CERT_FILE": ca_path} if ca_path else {})},
                                  os.path.join(workdir, "tracker.log"), args)
            tracker_cpu = lambda: sum(psutil.Process(child.pid).cpu_times()[:2])  # noqa: E731
        else:
            tracker = threading.Thread(target=run_forever, kwargs={"stop": stop, **options}, name="tracker")
            tracker.start()
            tracker_cpu = lambda: 0.0  # noqa: E731 - counted in this process
        bench_user()
        time.sleep(1.0)  # the tracker imported and looking for work
        tracker_before, sim_before = tracker_cpu(), sim_cpu()
        cpu_before, busy_before = process_cpu(), machine_busy()
        started = time.time()
        # As Generate leaves them; the tracker sends them itself (studio.sending).
        slow = f", slow_start={args.submit_latency:g}" if args.submit_latency else ""
        create_generations(args.jobs, prompt_token=f"[sim: queue=0, run=0{slow}]", image_size=args.image_size)
        wait_until_final(args.jobs, timeout=600)
        cpu_used, busy = process_cpu() - cpu_before, machine_busy() - busy_before
        tracker_used, sim_used = tracker_cpu() - tracker_before, sim_cpu() - sim_before
        thumbnails_at = wait_for_thumbnails(timeout=120) if args.thumbnail_processes != 0 else time.time()
        # The thumbnail worker process, after it made every thumbnail.
        helper_cpu = children_cpu(child.pid) if args.tracker_process else children_cpu()
        if not args.tracker_process and hasattr(sim, "pid"):
            helper_cpu -= process_tree_cpu(sim.pid)  # the simulator is this process's child too
        if args.tracker_process:
            child.terminate()
            child.wait(timeout=60)
        else:
            stop.set()
            tracker.join()

        rows = generation_rows()
        done = [row for row in rows if row["state"] == "done"]
        problems = {(row["state"], row["error_type"], row["error_message"][:80]) for row in rows if row["state"] != "done"}
        detect, save, collect = [], [], []
        walls = completed_walls(sim, [row["request_id"] for row in done])
        for row in done:
            upstream = walls[row["request_id"]]
            detect.append(row["completed_at"].timestamp() - upstream)
            save.append(row["finished_at"].timestamp() - upstream)
            collect.append((row["finished_at"] - row["completed_at"]).total_seconds())
        figures = {
            "wall": max(row["finished_at"].timestamp() for row in rows) - started,
            "thumbnails_after": thumbnails_at - max(row["finished_at"].timestamp() for row in rows),
            "thumbnails": Asset.objects.exclude(thumbnail="").count(), "helper_cpu": helper_cpu,
            "tracker_cpu": tracker_used, "sim_cpu": sim_used,
            "cpu": cpu_used, "busy": busy,
            "sent_wall": max(row["submitted_at"].timestamp() for row in done) - started if done else 0.0,
            "done": len(done), "problems": problems,
            "assets": Asset.objects.filter(source=Asset.Source.OUTPUT).count(),
            "detect": detect, "save": save, "collect": collect,
            "status_polls": status_polls(sim),
        }
        connections.close_all()
    return figures


def run_rounds(args: argparse.Namespace) -> None:
    import subprocess
    import tempfile

    argv = [arg for arg in sys.argv[1:] if not arg.startswith("--rounds")]
    if "--rounds" in sys.argv:  # "--rounds N" as two words
        index = sys.argv.index("--rounds")
        argv = [arg for position, arg in enumerate(sys.argv[1:], 1) if position not in (index, index + 1)]
    rounds = []
    for number in range(1, args.rounds + 1):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run([sys.executable, __file__, *argv, "--json", out.name], check=True,
                           stdout=subprocess.DEVNULL)
            figures = json.load(open(out.name))
        rounds.append(figures)
        ratio = figures["wall"] / figures["baseline_wall"] if "baseline_wall" in figures else None
        print(f"round {number}: Atelier {figures['wall']:.2f} s, saved p50 {figures['save_p50'] * 1000:.0f} ms / "
              f"p95 {figures['save_p95'] * 1000:.0f} ms"
              + (f"; fal-client {figures['baseline_wall']:.2f} s; ratio {ratio:.2f}" if ratio else ""), flush=True)
    medians = {key: statistics.median(figures[key] for figures in rounds) for key in rounds[0]}
    ratios = [figures["wall"] / figures["baseline_wall"] for figures in rounds if "baseline_wall" in figures]
    print(f"median of {len(rounds)}: Atelier {medians['wall']:.2f} s, saved p50 {medians['save_p50'] * 1000:.0f} ms / "
          f"p95 {medians['save_p95'] * 1000:.0f} ms"
          + (f"; fal-client {medians['baseline_wall']:.2f} s; ratio {statistics.median(ratios):.2f} "
             f"(rounds {min(ratios):.2f}-{max(ratios):.2f}; goal <= 1.2)" if ratios else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--image-size", default="square", help="fal image_size preset (default square = 512x512)")
    parser.add_argument("--submit-latency", type=float, default=0.0,
                        help="seconds the simulator takes to answer each of Atelier's submits (as fal over the "
                             "internet does; the baseline's are not slowed: use with --no-baseline)")
    parser.add_argument("--tracker-process", action="store_true",
                        help="run the tracker as `manage.py track` in its own process, as deployed")
    parser.add_argument("--collect-threads", type=int, help="the tracker's collecting threads (default: its own)")
    parser.add_argument("--concurrency", type=int, help="the tracker's status requests at once (default: its own)")
    parser.add_argument("--thumbnail-processes", type=int,
                        help="with --tracker-process: the tracker's thumbnail processes (0: none, to see their cost)")
    parser.add_argument("--baseline-threads", type=int, default=32)
    parser.add_argument("--sequential", action="store_true", help="also run the baseline sequentially")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL server to create a scratch database on, e.g. "
                        "postgres://postgres@127.0.0.1:5432/postgres (default: SQLite in a temp dir)")
    parser.add_argument("--atelier-tls", action="store_true", help="Atelier talks HTTPS to its simulator too")
    parser.add_argument("--simulator-in-process", action="store_true",
                        help="run each side's simulator in the bench process (sharing its GIL), as before "
                             "2026-11-26; by default it runs in a process of its own, like fal")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the whole comparison this many times (each in a fresh process) and print "
                             "every round and the medians: single runs vary by +-20 %% on a shared machine")
    parser.add_argument("--json", help=argparse.SUPPRESS)  # one round's figures, for --rounds
    args = parser.parse_args()
    if args.rounds > 1:
        run_rounds(args)
        return

    with temp_dir("atelier-bench-") as workdir, contextlib.ExitStack() as stack:
        database_url = stack.enter_context(ScratchPostgres(args.database_url)) if args.database_url else None
        atelier = run_atelier(args, workdir, database_url)
        baseline = {}
        if not args.no_baseline:
            from fal_client_baseline import run_baseline

            counts = [args.baseline_threads] + ([1] if args.sequential else [])
            baseline = run_baseline(args.jobs, args.image_size, counts, workdir=workdir,
                                    simulator_in_process=args.simulator_in_process)

    scheme = "https" if args.atelier_tls else "http"
    database = "PostgreSQL" if args.database_url else "SQLite"
    from studio import tracker

    collect_threads = args.collect_threads or tracker.COLLECT_THREADS
    rows = [
        ("Atelier: wall, first submit -> last saved", f"{atelier['wall']:.2f} s  ({atelier['done']} done, "
                                                      f"{atelier['assets']} assets)"),
        (("  process CPU (Atelier" if not args.tracker_process else "  bench process CPU (creating the jobs")
         + (" + simulator)" if args.simulator_in_process else ")"),
         f"{atelier['cpu']:.2f} s  (whole machine: {atelier['busy']:.2f} s)"),
        *([("  tracker process CPU", f"{atelier['tracker_cpu']:.2f} s")] if args.tracker_process else []),
        *([("  simulator process CPU", f"{atelier['sim_cpu']:.2f} s")] if not args.simulator_in_process else []),
        ("  thumbnails made (worker process)", f"{atelier['thumbnails']}, the last {atelier['thumbnails_after']:.2f} s "
                                               f"after the last save; {atelier['helper_cpu']:.2f} s CPU"),
        ("  the last job sent", f"{atelier['sent_wall']:.2f} s after the jobs were created"),
        ("  upstream completed -> assets saved", dist_ms(atelier["save"])),
        ("  upstream completed -> completed_at (detect)", dist_ms(atelier["detect"])),
        ("  completed_at -> finished_at (collect)", dist_ms(atelier["collect"])),
        ("  status requests", str(atelier["status_polls"])),
    ]
    if atelier["problems"]:
        rows.append(("  NOT DONE", repr(sorted(atelier["problems"]))[:300]))
    for threads, fig in baseline.items():
        name = "sequential" if threads == 1 else f"{threads} threads"
        rows += [(f"fal-client, {name}: wall", f"{fig['wall']:.2f} s  ({fig['files']} files)"),
                 ("  process CPU (fal-client" + (" + simulator)" if args.simulator_in_process else ")"),
                  f"{fig['cpu']:.2f} s  (whole machine: {fig['busy']:.2f} s)"),
                 *([("  simulator process CPU", f"{fig['sim_cpu']:.2f} s")] if not args.simulator_in_process else []),
                 ("  upstream completed -> file saved", dist_ms(fig["save_delays"]))]
    if baseline:
        ratio = atelier["wall"] / baseline[args.baseline_threads]["wall"]
        rows.append((f"ratio Atelier / fal-client ({args.baseline_threads} threads)", f"{ratio:.2f}  (goal <= 1.2)"))
        if 1 in baseline:
            rows.append(("ratio Atelier / fal-client (sequential)", f"{atelier['wall'] / baseline[1]['wall']:.2f}"))
    if args.json:
        with open(args.json, "w") as handle:
            save = summary(atelier["save"])
            json.dump({"wall": atelier["wall"], "save_p50": save["p50"], "save_p95": save["p95"], "busy": atelier["busy"],
                       **({"baseline_wall": baseline[args.baseline_threads]["wall"]} if baseline else {})}, handle)
    print_table(f"{args.jobs} jobs, {MODEL_ID}, image_size={args.image_size}, queue 0 s, run 0 s; "
                f"Atelier over {scheme} with {database}, tracker {'process' if args.tracker_process else 'thread'} with "
                f"{collect_threads} collecting threads; fal-client over https; simulator "
                f"{'in the bench process' if args.simulator_in_process else 'in a process of its own'}", rows)


if __name__ == "__main__":
    main()
