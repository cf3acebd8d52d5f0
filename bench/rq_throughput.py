"""RQ scale-out: 1,000 jobs in flight over 1, 2 and 4 workers, on PostgreSQL + Redis.

A "worker" is what one worker machine runs: one `manage.py rqworker` (sends jobs to fal) and
one `manage.py track` (watches jobs in flight, collects them). For each worker count:

1. A scratch PostgreSQL database and Redis database; N workers; the simulator in this process.
2. 1,000 jobs are created and their submit tasks enqueued on RQ, as the web form does. They
   run "forever" upstream, so all 1,000 are in flight while the trackers poll them.
3. Once every job is tracked and polling has settled, the simulator is told to finish all of
   them at one instant T (their run times are rewritten in place). From T on, the trackers
   detect and collect 1,000 completed jobs as fast as they can.

Figures: submit rate (jobs/s sent by the RQ workers), collect rate (jobs / (last saved − T)),
detection delay (our `completed_at` − T; p50/p95), and jobs collected twice: requests whose
result or file the simulator served more than once, jobs with more than one output or sent
twice. `uptime` is printed beside each run: the machine is shared.

    python bench/rq_throughput.py                       # 1,000 jobs; 1, 2, 4 workers
    python bench/rq_throughput.py --jobs 200 --workers 1,2
    python bench/rq_throughput.py --rq-worker-class rq.worker.Worker   # rq's fork per task
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fal.simulator import Simulator, SimulatorConfig  # noqa: E402
from tests.scale.cluster import Cluster, ScratchDatabase, ScratchRedis  # noqa: E402

MODEL = "fal-ai/flux-1/dev"

ENQUEUE = """
import time
from django.contrib.auth import get_user_model
from studio.models import Generation
from studio.tasks import submit_generation
user = get_user_model().objects.create_user("bench", password="x")
rows = [Generation(user=user, model_id="{model}", model_title="FLUX.1 [dev]", kind="text-to-image",
                   arguments={{"prompt": f"bench {{i}} [sim: queue=0, run=86400]", "image_size": "{size}",
                              "num_images": 1}}, prompt=f"bench {{i}}", client_token=f"bench-{{i}}")
        for i in range({jobs})]
Generation.objects.bulk_create(rows)
print("enqueue-start", time.time())
for row in rows:
    submit_generation.enqueue(str(row.id))
print("enqueue-end", time.time())
"""


class Counting:
    """Counts the simulator's answers per request instead of keeping a log of every poll."""

    def __init__(self, sim: Simulator) -> None:
        self.posts = 0
        self.polls = 0
        self.results: collections.Counter = collections.Counter()
        self.files: collections.Counter = collections.Counter()
        sim._record = self.record  # type: ignore[method-assign]

    def record(self, hit) -> None:
        if hit.method == "POST":
            self.posts += 1
        elif hit.path.endswith("/status"):
            self.polls += 1
        elif match := re.fullmatch(r"/files/([^/]+)/.+", hit.path):
            self.files[match[1]] += 1
        elif match := re.fullmatch(r"/fal-ai/[^/]+/requests/([^/]+)", hit.path):
            self.results[match[1]] += 1


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1].strip()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def run_once(workers: int, args) -> dict:
    load_before = uptime()
    with tempfile.TemporaryDirectory(prefix="rq-bench-") as var_dir, ScratchDatabase("scale") as database, \
            Simulator(SimulatorConfig(host="127.0.0.1", port=0, queue_seconds=0, run_seconds=86400)) as sim:
        counts = Counting(sim)
        redis_db = ScratchRedis()
        cluster = Cluster(database_url=database.url, redis_url=redis_db.url, fal_base_url=sim.base_url,
                          var_dir=Path(var_dir), TRACK_LEASE_SECONDS=str(args.lease))
        try:
            cluster.manage("migrate", "--noinput")
            for n in range(workers):
                cluster.start_worker(f"worker-{n}", worker_class=args.rq_worker_class)
                cluster.start_tracker(f"tracker-{n}", threads=args.tracker_threads)
            out = cluster.manage("shell", "-c", ENQUEUE.format(model=MODEL, size=args.image_size, jobs=args.jobs))
            enqueue_start = float(re.search(r"enqueue-start (\S+)", out)[1])

            # Every job sent and tracked (queued/running upstream).
            deadline = time.monotonic() + args.timeout
            while True:
                sent = database.query("SELECT count(*), max(submitted_at) FROM studio_generation "
                                      "WHERE state IN ('queued', 'running')")[0]
                if sent[0] >= args.jobs:
                    break
                if time.monotonic() > deadline or cluster.dead():
                    raise SystemExit(f"only {sent[0]} sent; dead: {cluster.dead()}\n{cluster.output()}")
                time.sleep(0.2)
            submit_seconds = sent[1].timestamp() - enqueue_start
            time.sleep(args.settle)  # polling at its steady pace, 1,000 jobs in flight
            polls_before, settle_from = counts.polls, time.monotonic()
            time.sleep(2.0)
            poll_rate = (counts.polls - polls_before) / (time.monotonic() - settle_from)

            # Draw every output now, so downloads do not wait for drawing; then finish all at T.
            for job in list(sim.jobs._jobs.values()):
                for output in job.files:
                    job.image_bytes(output)
            release = time.monotonic() + 1.0
            release_wall = time.time() + (release - time.monotonic())
            for job in list(sim.jobs._jobs.values()):
                job.run_seconds = max(0.0, release - job.started_at)
            while True:
                final = database.query("SELECT count(*), max(finished_at) FROM studio_generation "
                                       "WHERE state IN ('done', 'failed', 'cancelled')")[0]
                if final[0] >= args.jobs:
                    break
                if time.monotonic() > deadline or cluster.dead():
                    raise SystemExit(f"only {final[0]} final; dead: {cluster.dead()}\n{cluster.output()}")
                time.sleep(0.2)
            rows = database.query(
                "SELECT g.state, extract(epoch from g.completed_at), count(a.id) FROM studio_generation g "
                "LEFT JOIN gallery_asset a ON a.generation_id = g.id GROUP BY g.id")
        finally:
            cluster.stop()
            redis_db.close()
    delays = [float(completed) - release_wall for _, completed, _ in rows]
    collect_seconds = final[1].timestamp() - release_wall
    twice = (sum(1 for n in counts.results.values() if n > 1) + sum(1 for n in counts.files.values() if n > 1)
             + sum(1 for _, _, assets in rows if assets > 1) + max(0, counts.posts - args.jobs))
    return {
        "workers": workers, "done": sum(1 for state, _, _ in rows if state == "done"),
        "submit_rate": args.jobs / submit_seconds, "poll_rate": poll_rate,
        "collect_rate": args.jobs / collect_seconds, "collect_seconds": collect_seconds,
        "p50": pct(delays, 50), "p95": pct(delays, 95), "twice": twice,
        "load_before": load_before, "load_after": uptime(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts (default 1,2,4)")
    parser.add_argument("--tracker-threads", type=int, default=8)
    parser.add_argument("--image-size", default="square", help="simulator image size (square = 512×512)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of steady polling before the release")
    parser.add_argument("--lease", type=int, default=60, help="TRACK_LEASE_SECONDS")
    parser.add_argument("--rq-worker-class", default="",
                        help="e.g. rq.worker.Worker (forks per task); default: the settings' SimpleWorker")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    print(f"{datetime.now():%Y-%m-%d %H:%M}  {os.cpu_count()} CPUs  {args.jobs} jobs  image {args.image_size}")
    results = []
    for workers in [int(n) for n in args.workers.split(",")]:
        result = run_once(workers, args)
        results.append(result)
        print(f"workers={workers}: done {result['done']}/{args.jobs}, submit {result['submit_rate']:.0f}/s, "
              f"polls {result['poll_rate']:.0f}/s, collected {result['collect_rate']:.1f} jobs/s "
              f"({result['collect_seconds']:.1f} s), detection p50 {result['p50']:.2f} s p95 {result['p95']:.2f} s, "
              f"collected twice {result['twice']}  [load {result['load_before']} -> {result['load_after']}]",
              flush=True)
    base = results[0]
    print("\nworkers  submit/s  polls/s  collected/s  ×1-worker  detect p95  twice  load avg (before -> after)")
    for r in results:
        print(f"{r['workers']:>7}  {r['submit_rate']:>8.0f}  {r['poll_rate']:>7.0f}  {r['collect_rate']:>11.1f}  "
              f"{r['collect_rate'] / base['collect_rate']:>9.2f}  {r['p95']:>9.2f}s  {r['twice']:>5}  "
              f"{r['load_before']} -> {r['load_after']}")


if __name__ == "__main__":
    main()
