"""RQ scale-out: 1,000 jobs in flight over 1, 2 and 4 workers, on PostgreSQL + Redis.

A "worker" is what one worker machine runs: one `manage.py rqworker` (sends jobs with input images to fal) and
one `manage.py track` (watches jobs in flight, collects them). For each worker count:

1. A scratch PostgreSQL database and Redis database; N workers; the simulator in this process.
2. 1,000 jobs are created as the web form leaves them. Without input images they need no RQ
   task: the trackers send them (studio.sending); the rqworkers carry only jobs with input
   images. They run "forever" upstream, so all 1,000 are in flight while the trackers poll them.
3. Once every job is tracked and polling has settled, the simulator is told to finish all of
   them at one instant T (their run times are rewritten in place). From T on, the trackers
   detect and collect 1,000 completed jobs as fast as they can.

Figures: submit rate (jobs/s sent by the trackers), collect rate (jobs / (last saved − T)),
detection delay (our `completed_at` − T; p50/p95), and jobs collected twice: requests whose
result or file the simulator served more than once, jobs with more than one output or sent
twice. `uptime` is printed beside each run: the machine is shared.

Worker machines (--worker-cpu). Scaling out means more machines; on one machine extra worker
processes only split the same cores. With `--worker-cpu 0.35` every worker (its rqworker, its
tracker and everything they start) runs in a cgroup of its own limited to 0.35 of a core
(bench/_cgroups.py), like a small machine of its own. Per worker the run prints how many jobs
it watched and collected (each worker talks to fal with its own key, so the simulator can tell
them apart), when it collected its last one, and its CPU against its budget; for the shared
services (PostgreSQL, Redis, this process with the simulator) their CPU and how much of the
machine stayed idle, so the reader can see whether the workers or the services were the limit.

    python bench/rq_throughput.py                       # 1,000 jobs; 1, 2, 4 workers, no CPU limit
    python bench/rq_throughput.py --worker-cpu 0.35     # each worker a 0.35-core machine (needs root)
    python bench/rq_throughput.py --jobs 200 --workers 1,2
    python bench/rq_throughput.py --rq-worker-class rq.worker.Worker   # rq's fork per task
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import _cgroups  # noqa: E402  (bench/ is on sys.path as the script's folder)
from _common import machine_busy, process_cpu  # noqa: E402
from fal.simulator import Simulator, SimulatorConfig  # noqa: E402
from fal.simulator import server as simulator_server  # noqa: E402
from tests.scale.cluster import Cluster, ScratchDatabase, ScratchRedis  # noqa: E402

MODEL = "fal-ai/flux-1/dev"

ENQUEUE = """
import time
from django.contrib.auth import get_user_model
from studio.models import Generation
user = get_user_model().objects.create_user("bench", password="x")
rows = [Generation(user=user, model_id="{model}", model_title="FLUX.1 [dev]", kind="text-to-image",
                   arguments={{"prompt": f"bench {{i}} [sim: queue=0, run=86400]", "image_size": "{size}",
                              "num_images": 1}}, prompt=f"bench {{i}}", client_token=f"bench-{{i}}")
        for i in range({jobs})]
print("enqueue-start", time.time())
Generation.objects.bulk_create(rows)  # the trackers send them (studio.sending): no task per job
print("enqueue-end", time.time())
"""


KEY_PREFIX = "sk-bench-worker-"
_request_key = threading.local()


class Counting:
    """Counts the simulator's answers per request, and per worker, instead of logging every poll.

    Each worker uses its own fal key (KEY_PREFIX + its number); the simulator's log keeps only
    the scheme word, so the handler's key is noted on its thread just before the hit is recorded.
    """

    def __init__(self, sim: Simulator) -> None:
        self.posts = 0
        self.polls = 0
        self.results: collections.Counter = collections.Counter()
        self.files: collections.Counter = collections.Counter()
        self.by_worker: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.last_result: dict[str, float] = {}  # worker -> time.monotonic() of its latest result fetch
        self._lock = threading.Lock()
        sim._record = self.record  # type: ignore[method-assign]

    @staticmethod
    @contextlib.contextmanager
    def keys_noted():
        original = simulator_server._Handler._record_hit

        def record_hit(handler) -> None:
            headers = getattr(handler, "headers", None)
            _request_key.worker = ((headers.get("Authorization") or "").partition(" ")[2].strip()
                                   .removeprefix(KEY_PREFIX) if headers else "")
            original(handler)

        simulator_server._Handler._record_hit = record_hit
        try:
            yield
        finally:
            simulator_server._Handler._record_hit = original

    def record(self, hit) -> None:
        worker = getattr(_request_key, "worker", "")
        with self._lock:
            counts = self.by_worker[worker]
            if hit.method == "POST":
                self.posts += 1
                counts["posts"] += 1
            elif hit.path.endswith("/status"):
                self.polls += 1
                counts["polls"] += 1
            elif match := re.fullmatch(r"/files/([^/]+)/.+", hit.path):
                self.files[match[1]] += 1
            elif match := re.fullmatch(r"/fal-ai/[^/]+/requests/([^/]+)", hit.path):
                self.results[match[1]] += 1
                counts["results"] += 1
                self.last_result[worker] = time.monotonic()

    def snapshot(self) -> dict[str, collections.Counter]:
        with self._lock:
            return {worker: collections.Counter(counts) for worker, counts in self.by_worker.items()}


class ServiceCpu:
    """CPU used by the shared services while it runs: PostgreSQL (this run's database and the
    server's own background processes), Redis, and this process (the simulator, the sampler).

    psutil is read twice a second, so a PostgreSQL backend that ends between two reads loses at
    most half a second of its CPU (the workers keep their connections for the whole run).
    """

    def __init__(self, database_name: str) -> None:
        self.database_name = database_name
        self.seconds: collections.Counter = collections.Counter()
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _group(self, process) -> str | None:
        name = process.info["name"] or ""
        if name.startswith("redis-server"):
            return "Redis"
        if name.startswith("postgres"):
            line = " ".join(process.info["cmdline"] or [])
            parts = line.split()
            # "postgres: USER DATABASE HOST(PORT) STATE" for a backend; "postgres: checkpointer" etc.
            if len(parts) >= 4 and "(" in parts[3] and parts[2] != self.database_name:
                return None  # another database's backend (someone else's work)
            return "PostgreSQL"
        return None

    def _sample(self, first: bool = False) -> None:
        import psutil

        for process in psutil.process_iter(["name", "cmdline", "cpu_times", "create_time"]):
            group = self._group(process)
            if group is None or process.info["cpu_times"] is None:
                continue
            used = process.info["cpu_times"].user + process.info["cpu_times"].system
            pid = process.pid
            if pid in self._last:
                self.seconds[group] += used - self._last[pid]
            elif not first and process.info["create_time"] >= self._started_wall:
                self.seconds[group] += used  # born during the window
            self._last[pid] = used

    def __enter__(self) -> ServiceCpu:
        self._started_wall = time.time()
        self._bench_from, self._machine_from, self._from = process_cpu(), machine_busy(), time.monotonic()
        self._sample(first=True)

        def run() -> None:
            while not self._stop.wait(0.5):
                self._sample()
        self._thread = threading.Thread(target=run, name="service-cpu", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.wall = time.monotonic() - self._from
        self.seconds["bench process (simulator)"] = process_cpu() - self._bench_from
        self.machine_seconds = machine_busy() - self._machine_from

    def cores(self) -> dict[str, float]:
        return {group: seconds / self.wall for group, seconds in self.seconds.items()}


def role(process) -> str:
    """Which part of a worker machine a process is: the RQ worker, the tracker, or its thumbnails."""
    import psutil

    try:
        line = " ".join(process.cmdline())
        if "manage.py rqworker" in line:
            return "rqworker"
        if "manage.py track" in line:
            return "tracker"
        for parent in process.parents():
            parent_line = " ".join(parent.cmdline())
            if "manage.py track" in parent_line:
                return "thumbnails"  # the PreviewMaker's process (and multiprocessing's helper)
            if "manage.py rqworker" in parent_line:
                return "rqworker"  # its scheduler
    except psutil.Error:
        pass
    return "other"


def roles_cpu(group: _cgroups.WorkerCgroup) -> dict[int, tuple[str, float]]:
    import psutil

    found = {}
    for pid in group.pids():
        try:
            process = psutil.Process(pid)
            times = process.cpu_times()
            found[pid] = (role(process), times.user + times.system)
        except psutil.Error:
            continue
    return found


class Meter:
    """CPU of each worker's cgroup over a window (cores used, share of CFS periods throttled,
    and cores per part: rqworker, tracker, thumbnails)."""

    def __init__(self, groups: list[_cgroups.WorkerCgroup]) -> None:
        self.groups = groups

    def __enter__(self) -> Meter:
        self._from = time.monotonic()
        self._start = [(group.cpu_seconds(), group.throttled(), roles_cpu(group)) for group in self.groups]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall = time.monotonic() - self._from
        self.per_worker = []
        for group, (cpu, (periods, throttled, _), roles_from) in zip(self.groups, self._start):
            now_periods, now_throttled, _ = group.throttled()
            ran = now_periods - periods
            parts: collections.Counter = collections.Counter()
            for pid, (name, used) in roles_cpu(group).items():
                parts[name] += (used - roles_from[pid][1] if pid in roles_from else used) / self.wall
            self.per_worker.append({
                "cores": (group.cpu_seconds() - cpu) / self.wall, "budget": group.cores,
                "throttled": (now_throttled - throttled) / ran if ran else 0.0, "parts": parts,
            })


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1].strip()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def run_once(workers: int, args) -> dict:
    load_before = uptime()
    with contextlib.ExitStack() as stack:
        var_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="rq-bench-"))
        database = stack.enter_context(ScratchDatabase("scale"))
        sim = stack.enter_context(Simulator(SimulatorConfig(host="127.0.0.1", port=0, queue_seconds=0,
                                                            run_seconds=86400)))
        counts = Counting(sim)
        stack.enter_context(counts.keys_noted())
        # One cgroup per worker machine: a budget with --worker-cpu, else only a CPU meter.
        groups = [stack.enter_context(_cgroups.WorkerCgroup(f"atelier-bench-{os.getpid()}-w{n}", args.worker_cpu))
                  for n in range(workers)] if args.cgroups else []
        redis_db = ScratchRedis()
        stack.callback(redis_db.close)
        cluster = Cluster(database_url=database.url, redis_url=redis_db.url, fal_base_url=sim.base_url,
                          var_dir=Path(var_dir), TRACK_LEASE_SECONDS=str(args.lease))
        stack.callback(cluster.stop)  # runs before the cgroups are removed
        cluster.manage("migrate", "--noinput")
        for n in range(workers):
            options = {"wrap": groups[n].wrap() if groups else (), "env": {"FAL_KEY": f"{KEY_PREFIX}{n}"}}
            cluster.start_worker(f"worker-{n}", worker_class=args.rq_worker_class, **options)
            cluster.start_tracker(f"tracker-{n}", **options)
        out = cluster.manage("shell", "-c", ENQUEUE.format(model=MODEL, size=args.image_size, jobs=args.jobs))
        enqueue_start = float(re.search(r"enqueue-start (\S+)", out)[1])

        # Every job sent and tracked (queued/running upstream).
        deadline = time.monotonic() + args.timeout
        with Meter(groups) as submit_meter:
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
        before, settle_from = counts.snapshot(), time.monotonic()
        with Meter(groups) as poll_meter:
            time.sleep(3.0)
        after, settled = counts.snapshot(), time.monotonic() - settle_from
        polls = {w: (after.get(w, {}).get("polls", 0) - before.get(w, {}).get("polls", 0)) / settled for w in after}
        poll_rate = sum(polls.values())

        # Draw every output now, so downloads do not wait for drawing; then finish all at T.
        for job in list(sim.jobs._jobs.values()):
            for output in job.files:
                job.image_bytes(output)
        release = time.monotonic() + 1.0
        release_wall = time.time() + (release - time.monotonic())
        for job in list(sim.jobs._jobs.values()):
            job.run_seconds = max(0.0, release - job.started_at)
        time.sleep(max(0.0, release - time.monotonic()))
        at_release = counts.snapshot()
        with Meter(groups) as collect_meter, ServiceCpu(database.name) as services:
            while True:
                final = database.query("SELECT count(*), max(finished_at) FROM studio_generation "
                                       "WHERE state IN ('done', 'failed', 'cancelled')")[0]
                if final[0] >= args.jobs:
                    break
                if time.monotonic() > deadline or cluster.dead():
                    raise SystemExit(f"only {final[0]} final; dead: {cluster.dead()}\n{cluster.output()}")
                time.sleep(0.1)
        # Thumbnails are made after "saved" (gallery.previews), by the same workers' CPU: the time
        # until the last one is the whole job's, and the figure that shows a backlog left behind.
        while database.query("SELECT count(*) FROM gallery_asset WHERE thumbnail_due_at IS NOT NULL")[0][0]:
            if time.monotonic() > deadline or cluster.dead():
                raise SystemExit(f"thumbnails still owed; dead: {cluster.dead()}\n{cluster.output()}")
            time.sleep(0.1)
        thumbnails_seconds = time.time() - release_wall
        rows = database.query(
            "SELECT g.state, extract(epoch from g.completed_at), count(a.id) FROM studio_generation g "
            "LEFT JOIN gallery_asset a ON a.generation_id = g.id GROUP BY g.id")
        at_end = counts.snapshot()
        last_result = dict(counts.last_result)
    delays = [float(completed) - release_wall for _, completed, _ in rows]
    collect_seconds = final[1].timestamp() - release_wall
    twice = (sum(1 for n in counts.results.values() if n > 1) + sum(1 for n in counts.files.values() if n > 1)
             + sum(1 for _, _, assets in rows if assets > 1) + max(0, counts.posts - args.jobs))
    per_worker = []
    for n in range(workers):
        key = str(n)
        per_worker.append({
            "sent": at_end.get(key, {}).get("posts", 0),
            "watched": polls.get(key, 0.0),  # looks per second ≈ jobs watched (one look a second each)
            "collected": at_end.get(key, {}).get("results", 0) - at_release.get(key, {}).get("results", 0),
            "last": last_result.get(key, release) - release,
            **({"submit": submit_meter.per_worker[n], "poll": poll_meter.per_worker[n],
                "collect": collect_meter.per_worker[n]} if groups else {}),
        })
    return {
        "workers": workers, "done": sum(1 for state, _, _ in rows if state == "done"),
        "submit_rate": args.jobs / submit_seconds, "poll_rate": poll_rate,
        "collect_rate": args.jobs / collect_seconds, "collect_seconds": collect_seconds,
        "thumbnails_seconds": thumbnails_seconds,
        "p50": pct(delays, 50), "p95": pct(delays, 95), "twice": twice, "per_worker": per_worker,
        "services": services.cores(), "machine": services.machine_seconds / services.wall,
        # CPU the trackers spent per collected job while collecting (their thumbnails apart).
        "tracker_ms": (1000 * sum(w["collect"]["parts"]["tracker"] for w in per_worker) * collect_meter.wall
                       / args.jobs) if groups else float("nan"),
        "load_before": load_before, "load_after": uptime(),
    }


def report(result: dict, args) -> None:
    for n, worker in enumerate(result["per_worker"]):
        line = (f"  worker {n}: sent {worker['sent']}, watched ~{worker['watched']:.0f} jobs (looks/s), "
                f"collected {worker['collected']}, its last at T+{worker['last']:.1f} s")
        if "collect" in worker:
            budget = f"{worker['collect']['budget']:.2f}" if worker["collect"]["budget"] else "no limit"
            line += "; CPU (cores) " + ", ".join(
                f"{phase} {worker[phase]['cores']:.2f}" + (f" (throttled {worker[phase]['throttled']:.0%})"
                                                           if worker[phase]["budget"] else "")
                for phase in ("submit", "poll", "collect")) + f" of {budget}"
            for phase in ("submit", "collect"):
                parts = worker[phase]["parts"]
                line += f"\n    {dict(submit='sending', collect='collecting')[phase]}, cores: " + ", ".join(
                    f"{name} {parts[name]:.2f}" for name in ("rqworker", "tracker", "thumbnails", "other") if name in parts)
        print(line)
    services = ", ".join(f"{name} {cores:.2f}" for name, cores in sorted(result["services"].items()))
    workers = sum(worker["collect"]["cores"] for worker in result["per_worker"] if "collect" in worker)
    others = result["machine"] - workers - sum(result["services"].values())
    print(f"  while collecting: machine busy {result['machine']:.2f} of {os.cpu_count()} cores = workers "
          f"{workers:.2f} + shared services {sum(result['services'].values()):.2f} ({services}) + the rest of the "
          f"machine (other sessions, kernel) {others:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts (default 1,2,4)")
    parser.add_argument("--image-size", default="square", help="simulator image size (square = 512×512)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of steady polling before the release")
    parser.add_argument("--lease", type=int, default=60, help="TRACK_LEASE_SECONDS")
    parser.add_argument("--rq-worker-class", default="",
                        help="e.g. rq.worker.Worker (forks per task); default: the settings' SimpleWorker")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--worker-cpu", type=float, default=None, metavar="CORES",
                        help="give each worker (rqworker + tracker + their children) a cgroup limited to CORES "
                             "cores, as a worker machine of its own (cgroup v1, needs root)")
    args = parser.parse_args()
    problem = _cgroups.problem()
    if args.worker_cpu is not None:
        if args.worker_cpu <= 0:
            parser.error("--worker-cpu must be a positive number of cores, e.g. 0.35")
        if problem:
            raise SystemExit(f"--worker-cpu cannot be used here: {problem}.")
    args.cgroups = problem is None  # without a budget, cgroups still meter each worker's CPU
    mode = (f"each worker limited to {args.worker_cpu} cores (its own cgroup)" if args.worker_cpu
            else "no CPU limit: every worker shares the machine's cores")
    print(f"{datetime.now():%Y-%m-%d %H:%M}  {os.cpu_count()} CPUs  {args.jobs} jobs  image {args.image_size}  {mode}")
    results = []
    for workers in [int(n) for n in args.workers.split(",")]:
        result = run_once(workers, args)
        results.append(result)
        print(f"workers={workers}: done {result['done']}/{args.jobs}, submit {result['submit_rate']:.0f}/s, "
              f"polls {result['poll_rate']:.0f}/s, collected {result['collect_rate']:.1f} jobs/s "
              f"({result['collect_seconds']:.1f} s; last thumbnail at T+{result['thumbnails_seconds']:.1f} s), "
              f"detection p50 {result['p50']:.2f} s p95 {result['p95']:.2f} s, collected twice {result['twice']}  "
              f"[load {result['load_before']} -> {result['load_after']}]", flush=True)
        report(result, args)
    base = min(results, key=lambda r: r["workers"])  # the ×1-worker column divides by the fewest
    print(f"\n{mode}")
    print("workers  submit/s  polls/s  collected/s  ×1-worker  thumbnails done  tracker ms/job  detect p95  twice  "
          "load avg (before -> after)")
    for r in results:
        print(f"{r['workers']:>7}  {r['submit_rate']:>8.0f}  {r['poll_rate']:>7.0f}  {r['collect_rate']:>11.1f}  "
              f"{r['collect_rate'] / base['collect_rate']:>9.2f}  {'T+%.1f s' % r['thumbnails_seconds']:>15}  "
              f"{r['tracker_ms']:>14.1f}  {r['p95']:>9.2f}s  {r['twice']:>5}  {r['load_before']} -> {r['load_after']}")

if __name__ == "__main__":
    main()
