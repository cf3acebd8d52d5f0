"""Load: 200 browsers polling job cards once a second + 20 people generating, on gunicorn.

A production-like Atelier runs as child processes: gunicorn (`--workers` × `--threads`,
the command the README gives for production), the task worker (`manage.py db_worker`),
the job tracker (`manage.py track`) and the fal simulator (`--queue`/`--run` seconds per
job). This process then drives it over HTTP for `--seconds` (default 5 minutes):

- `--generators` people (one account each) submit the generate form the way htmx does
  (HX-Request, X-CSRFToken from the page, the form's one-time client token), watch their
  job until it is final, and submit the next one;
- `--browsers` browsers poll a job card once a second, like `hx-trigger="every 1s"`: each
  belongs to one of the generating accounts (10 tabs per person by default, sharing its
  login) and polls that person's newest job; a final card answers 286 and the browser moves
  on to the person's next job.

Figures: latency p50/p95/p99 of card polls and of generate POSTs, as the client sees them
and as spent inside gunicorn (its access log; the difference is waiting for a free worker
thread, and for a CPU), errors (any answer other than 200/286, or an exception; a request that finds its
kept-alive connection just closed is sent once more, as browsers do, and counted apart),
and worker queue lag (job created -> submitted upstream,
from the database) with an estimate of detection delay (completed_at minus submitted_at
minus the simulator's queue + run time). Also the load average and the CPU each process
used, since the machine may be shared.

    python bench/load_job_cards.py                        # 5 minutes, SQLite
    python bench/load_job_cards.py --seconds 60           # quick look
    python bench/load_job_cards.py --database-url postgres://postgres@127.0.0.1:5432/atelier_load
    python bench/load_job_cards.py --workers 4 --threads 8 --port 8200

With --database-url the named PostgreSQL database is created (dropped first if it exists)
and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MODEL_ID, REPO, pct, print_table, setup_django, temp_dir  # noqa: E402

import aiohttp  # noqa: E402

PASSWORD = "load-test-passphrase-73"
GENERATE_PATH = f"/generate/{MODEL_ID}/"
CSRF_HEADER = re.compile(r'"X-CSRFToken":\s*"([^"]+)"')
CLIENT_TOKEN = re.compile(r'name="client_token" value="([^"]+)"')
JOB_ID = re.compile(r'id="job-([0-9a-f-]{36})"')
LOGIN_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OK_STATUSES = {200, 286, 304}
ACCESS_LOG = "gunicorn-access.log"


@dataclass
class Figures:
    card: list[float] = field(default_factory=list)
    card_by_second: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    post: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    final_cards: int = 0
    unchanged_cards: int = 0
    resent: int = 0
    loop_lag: list[float] = field(default_factory=list)
    load_by_second: dict[int, float] = field(default_factory=dict)  # 1-minute load average
    machine_busy_by_second: dict[int, float] = field(default_factory=dict)  # busy CPU seconds so far

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_examples) < 8:
            self.error_examples.append(f"{kind}: {detail[:200]}")


@dataclass
class Person:
    username: str
    cookies: dict[str, str] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)   # newest last
    final: set[str] = field(default_factory=set)

    def job_to_watch(self) -> str | None:
        for job in reversed(self.jobs):
            if job not in self.final:
                return job
        return self.jobs[-1] if self.jobs else None


# --- Processes ------------------------------------------------------------------------------
def start_processes(args: argparse.Namespace, env: dict[str, str], workdir: str) -> dict[str, subprocess.Popen]:
    manage = [sys.executable, str(REPO / "manage.py")]
    full_env = {**os.environ, **env}
    logs = Path(workdir)
    commands = {
        "fal simulator": [*manage, "fal_simulator", "--port", str(args.sim_port),
                          "--queue-seconds", str(args.queue), "--run-seconds", str(args.run)],
        "gunicorn": [sys.executable, "-m", "gunicorn", "atelier.wsgi", "--bind", f"127.0.0.1:{args.port}",
                     "--workers", str(args.workers), "--threads", str(args.threads),
                     "--worker-class", "gthread", "--keep-alive", "5", "--log-level", "warning",
                     # Time spent inside the worker (µs), apart from waiting to be accepted.
                     "--access-logfile", str(logs / ACCESS_LOG), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s %(p)s"],
        "task worker": [*manage, "db_worker", "--no-reload"],
        "job tracker": [*manage, "track", "--skip-checks"],
    }
    processes = {}
    for name, argv in commands.items():
        log = open(logs / f"{name.replace(' ', '-')}.log", "wb")
        processes[name] = subprocess.Popen(argv, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
    return processes


def stop_processes(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as answer:
            if answer.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s (see the logs in the work dir)")


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU of a process and all its descendants, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, usage = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        usage[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += usage.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


# --- Driving it -----------------------------------------------------------------------------
# aiohttp, not httpx: the driver stands in for 200 browsers on other people's machines, so it
# should take as little of this machine's CPU as it can (~0.23 ms per request against ~2.1 ms
# for httpx.AsyncClient, bench/README.md).
STALE_CONNECTION = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


@dataclass
class Answer:
    status: int
    text: str
    headers: dict[str, str]


async def send(client: aiohttp.ClientSession, figures: Figures, method: str, url: str, **kwargs) -> Answer:
    """One request; sent once more on a fresh connection if the server had just closed the
    kept-alive one (no answer at all), as browsers do. The generate form is safe to resend:
    its one-time client token makes one job however often it arrives."""
    try:
        return await _request(client, method, url, **kwargs)
    except STALE_CONNECTION:
        figures.resent += 1
        return await _request(client, method, url, **kwargs)


async def _request(client: aiohttp.ClientSession, method: str, url: str, **kwargs) -> Answer:
    async with client.request(method, url, allow_redirects=False, **kwargs) as response:
        body = await response.read()
        return Answer(response.status, body.decode(errors="replace"),
                      {name: response.headers[name] for name in ("ETag", "Location") if name in response.headers})


def new_client(base: str, cookies: dict[str, str] | None = None) -> aiohttp.ClientSession:
    """One browser: one kept-alive connection, its own cookies."""
    jar = aiohttp.CookieJar(unsafe=True)  # unsafe: accept cookies from an IP address (127.0.0.1)
    if cookies:
        jar.update_cookies(cookies)
    client = aiohttp.ClientSession(base_url=base, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30),
                                   connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=30))
    # aiohttp resends a GET on a dead kept-alive connection by itself; `send` does it here
    # instead, so that resends are counted.
    if not hasattr(client, "_retry_connection"):
        raise SystemExit("this aiohttp has no _retry_connection: resends could not be counted")
    client._retry_connection = False
    return client


def jar_cookies(client: aiohttp.ClientSession) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in client.cookie_jar}


async def log_in(base: str, person: Person) -> None:
    async with new_client(base) as client:
        page = await _request(client, "GET", "/login/")
        token = LOGIN_CSRF.search(page.text).group(1)
        answer = await _request(client, "POST", "/login/", data={
            "username": person.username, "password": PASSWORD, "csrfmiddlewaretoken": token})
        if answer.status != 302:
            raise SystemExit(f"logging in as {person.username} failed: {answer.status}")
        person.cookies = jar_cookies(client)


async def generator(base: str, person: Person, figures: Figures, until: float, measuring: asyncio.Event) -> None:
    async with new_client(base, person.cookies) as client:
        page = (await _request(client, "GET", GENERATE_PATH)).text
        csrf, client_token = CSRF_HEADER.search(page).group(1), CLIENT_TOKEN.search(page).group(1)
        number = 0
        while time.monotonic() < until:
            number += 1
            data = {"client_token": client_token, "prompt": f"load test {person.username} #{number}",
                    "image_size": "square", "num_images": "1", "num_inference_steps": "28",
                    "guidance_scale": "3.5", "enable_safety_checker": "on", "output_format": "jpeg",
                    "acceleration": "none"}
            headers = {"HX-Request": "true", "HX-Current-URL": base + GENERATE_PATH, "X-CSRFToken": csrf}
            started = time.perf_counter()
            try:
                answer = await send(client, figures, "POST", GENERATE_PATH, data=data, headers=headers)
            except (aiohttp.ClientError, asyncio.TimeoutError) as problem:
                figures.error("generate exception", repr(problem))
                await asyncio.sleep(1)
                continue
            elapsed = time.perf_counter() - started
            if measuring.is_set():
                figures.post.append(elapsed)
            if answer.status not in OK_STATUSES:
                figures.error(f"generate HTTP {answer.status}", answer.text)
                await asyncio.sleep(1)
                continue
            job, token = JOB_ID.search(answer.text), CLIENT_TOKEN.search(answer.text)
            if job is None or token is None:
                figures.error("generate answer without a card", answer.text)
                await asyncio.sleep(1)
                continue
            client_token = token.group(1)
            person.jobs.append(job.group(1))
            # Like a person: watch the card (the browsers poll it) until it is final, then go again.
            while job.group(1) not in person.final and time.monotonic() < until:
                await asyncio.sleep(0.25)
            await asyncio.sleep(random.uniform(0, 1))


async def browser(base: str, person: Person, figures: Figures, until: float, measuring: asyncio.Event,
                  started_at: float) -> None:
    async with new_client(base, person.cookies) as client:
        await asyncio.sleep(random.uniform(0, 1))  # browsers do not all tick together
        next_tick = time.monotonic()
        headers = {"HX-Request": "true", "HX-Current-URL": base + GENERATE_PATH}
        cached: dict[str, str] = {}  # job -> ETag of the card this browser holds (its HTTP cache)
        while time.monotonic() < until:
            next_tick += 1.0
            job = person.job_to_watch()
            if job is not None:
                started = time.perf_counter()
                request_headers = {**headers, "HX-Target": f"job-{job}", "HX-Trigger": f"job-{job}"}
                if job in cached:  # a browser revalidates what it holds (Cache-Control: no-cache)
                    request_headers["If-None-Match"] = cached[job]
                try:
                    answer = await send(client, figures, "GET", f"/jobs/{job}/card/", headers=request_headers)
                except (aiohttp.ClientError, asyncio.TimeoutError) as problem:
                    figures.error("card exception", repr(problem))
                else:
                    elapsed = time.perf_counter() - started
                    if measuring.is_set():
                        figures.card.append(elapsed)
                        figures.card_by_second[int(time.monotonic() - started_at)].append(elapsed)
                    if answer.status == 286:
                        person.final.add(job)
                        figures.final_cards += 1
                    elif answer.status == 304:
                        figures.unchanged_cards += 1
                    elif answer.status not in OK_STATUSES:
                        figures.error(f"card HTTP {answer.status}", answer.text)
                    if answer.status in (200, 286) and f'id="job-{job}"' not in answer.text:
                        # e.g. HX-Redirect to the login page: a 200 without a card is no success
                        figures.error("card answer without the card", answer.text or repr(answer.headers))
                    if answer.status == 200 and "ETag" in answer.headers:
                        cached = {job: answer.headers["ETag"]}
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))


async def loop_lag_sampler(figures: Figures, until: float, started_at: float) -> None:
    """How late this driver's own event loop wakes up: its share of the measured latency.
    Also the machine's load, to tell slow stretches caused by other programs apart."""
    while time.monotonic() < until:
        started = time.perf_counter()
        await asyncio.sleep(0.1)
        figures.loop_lag.append(time.perf_counter() - started - 0.1)
        second = int(time.monotonic() - started_at)
        if second not in figures.load_by_second:
            figures.load_by_second[second] = os.getloadavg()[0]
            figures.machine_busy_by_second[second] = machine_busy_seconds()


def machine_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot, from /proc/stat (Linux)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def by_minute(figures: Figures, measured_from: float, wall: float) -> list[tuple[str, str]]:
    """Card latency per minute of the measured window, beside the machine's load and busy cores."""
    rows = []
    first = int(measured_from)
    for start in range(first, first + int(wall), 60):
        values = [v for second in range(start, start + 60) for v in figures.card_by_second.get(second, [])]
        seconds = [second for second in range(start, start + 60) if second in figures.machine_busy_by_second]
        if not values or len(seconds) < 2:
            continue
        busy = figures.machine_busy_by_second
        cores = (busy[seconds[-1]] - busy[seconds[0]]) / (seconds[-1] - seconds[0])
        rows.append((f"  minute {(start - first) // 60 + 1}",
                     f"p50 {pct(values, 50) * 1000:6.1f} ms  p99 {pct(values, 99) * 1000:7.1f} ms  "
                     f"load {figures.load_by_second[seconds[-1]]:5.2f}  machine busy {cores:.2f} of {os.cpu_count()} cores"))
    return rows


async def drive(args: argparse.Namespace, people: list[Person],
                on_measure_start: Callable[[], None]) -> tuple[Figures, float, float]:
    base = f"http://127.0.0.1:{args.port}"
    for start in range(0, len(people), 5):  # a few at a time: the login rate limit counts per address
        await asyncio.gather(*(log_in(base, person) for person in people[start:start + 5]))
    figures = Figures()
    measuring = asyncio.Event()
    started_at = time.monotonic()
    until = started_at + args.warmup + args.seconds
    tasks = [generator(base, people[g % len(people)], figures, until, measuring) for g in range(args.generators)]
    tasks += [browser(base, people[b % len(people)], figures, until, measuring, started_at) for b in range(args.browsers)]
    tasks.append(loop_lag_sampler(figures, until, started_at))

    async def start_measuring() -> None:
        await asyncio.sleep(args.warmup)
        on_measure_start()
        measuring.set()

    gathered = asyncio.gather(*tasks, start_measuring())
    await gathered
    return figures, started_at + args.warmup, until


def prepare_database(args: argparse.Namespace) -> None:
    if not args.database_url:
        return
    import psycopg
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(args.database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(args: argparse.Namespace) -> None:
    if not args.database_url or args.keep_database:
        return
    import psycopg
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connections

    connections.close_all()
    parts = urlsplit(args.database_url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def job_figures(args: argparse.Namespace, measured_from: float, measured_to: float) -> dict:
    from datetime import datetime, timezone

    from studio.models import Generation

    since = datetime.fromtimestamp(measured_from - time.monotonic() + time.time(), tz=timezone.utc)
    rows = list(Generation.objects.filter(created_at__gte=since).values(
        "state", "created_at", "submitted_at", "completed_at", "finished_at", "error_message"))
    lag = [(row["submitted_at"] - row["created_at"]).total_seconds() for row in rows if row["submitted_at"]]
    upstream = args.queue + args.run
    detect = [(row["completed_at"] - row["submitted_at"]).total_seconds() - upstream
              for row in rows if row["completed_at"] and row["submitted_at"]]
    collect = [(row["finished_at"] - row["completed_at"]).total_seconds()
               for row in rows if row["finished_at"] and row["completed_at"] and row["state"] == "done"]
    states = Counter(row["state"] for row in rows)
    failures = Counter(row["error_message"][:100] for row in rows if row["state"] == "failed")
    return {"rows": len(rows), "lag": lag, "detect": detect, "collect": collect, "states": states,
            "failures": failures, "unsubmitted": sum(1 for row in rows if not row["submitted_at"])}


def server_times(access_log: Path, offset: int) -> tuple[dict[str, list[float]], Counter]:
    """Seconds each request spent inside gunicorn, by kind, and requests per worker, from the access log."""
    times: dict[str, list[float]] = {"card": [], "generate": []}
    per_worker: Counter = Counter()
    with open(access_log, "rb") as log:
        log.seek(offset)
        for line in log.read().decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) != 5:
                continue
            method, path, _status, micros, worker = parts
            per_worker[worker] += 1
            if method == "GET" and path.endswith("/card/"):
                times["card"].append(int(micros) / 1e6)
            elif method == "POST" and path == GENERATE_PATH:
                times["generate"].append(int(micros) / 1e6)
    return times, per_worker


def dist(values: list[float], unit: float = 1000.0, suffix: str = "ms") -> str:
    if not values:
        return "(none)"
    return (f"p50 {pct(values, 50) * unit:7.1f} {suffix}  p95 {pct(values, 95) * unit:7.1f} {suffix}  "
            f"p99 {pct(values, 99) * unit:7.1f} {suffix}  max {max(values) * unit:7.1f} {suffix}  (n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300, help="measured time (default 300)")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds first (default 10)")
    parser.add_argument("--browsers", type=int, default=200)
    parser.add_argument("--generators", type=int, default=20)
    parser.add_argument("--people", type=int, default=0, help="accounts (default: one per generator)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2, as `make serve`)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4, as `make serve`)")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--sim-port", type=int, default=8201)
    parser.add_argument("--queue", type=float, default=1.0, help="simulator queue seconds per job")
    parser.add_argument("--run", type=float, default=3.0, help="simulator run seconds per job")
    parser.add_argument("--database-url", help="PostgreSQL database to create and use, e.g. "
                        "postgres://postgres@127.0.0.1:5432/atelier_load (default: SQLite in a temp dir)")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()

    with temp_dir("atelier-load-") as workdir:
        prepare_database(args)
        env = setup_django(os.path.join(workdir, "var"), f"http://127.0.0.1:{args.sim_port}", args.database_url)
        from django.contrib.auth import get_user_model
        from django.db import connections

        count = args.people or args.generators
        people = [Person(f"load{number:03d}") for number in range(count)]
        for person in people:
            get_user_model().objects.create_user(person.username, password=PASSWORD)
        connections.close_all()

        processes = start_processes(args, env, workdir)
        try:
            wait_for_http(f"http://127.0.0.1:{args.sim_port}/")
            wait_for_http(f"http://127.0.0.1:{args.port}/login/")
            before: dict = {}

            access_log = Path(workdir) / ACCESS_LOG

            def on_measure_start() -> None:
                before["access_log_offset"] = access_log.stat().st_size if access_log.exists() else 0
                before["load"] = os.getloadavg()
                before["cpu"] = {name: cpu_seconds(process.pid) for name, process in processes.items()}
                before["driver"] = resource.getrusage(resource.RUSAGE_SELF)

            figures, measured_from, measured_to = asyncio.run(drive(args, people, on_measure_start))
            load_before, cpu_before, driver_before = before["load"], before["cpu"], before["driver"]
            wall = measured_to - measured_from
            cpu = {name: cpu_seconds(process.pid) - cpu_before[name] for name, process in processes.items()}
            driver = resource.getrusage(resource.RUSAGE_SELF)
            cpu["load driver (this process)"] = (driver.ru_utime + driver.ru_stime
                                                 - driver_before.ru_utime - driver_before.ru_stime)
            load_after = os.getloadavg()
            died = [name for name, process in processes.items() if process.poll() is not None]
            jobs = job_figures(args, measured_from, measured_to)
            server, per_worker = server_times(access_log, before["access_log_offset"])
        finally:
            stop_processes(processes)
            drop_database(args)

    database = "PostgreSQL" if args.database_url else "SQLite (WAL)"
    polls_per_second = len(figures.card) / wall if wall else 0
    rows = [
        ("job-card polls", dist(figures.card)),
        ("  polls per second", f"{polls_per_second:.0f}   (final cards answered 286: {figures.final_cards}, "
                               f"unchanged cards answered 304: {figures.unchanged_cards})"),
        ("  of which inside gunicorn", dist(server["card"])),
        ("  requests served by each gunicorn worker", " / ".join(
            f"{count / sum(per_worker.values()) * 100:.0f} %" for _, count in per_worker.most_common())),
        ("generate POSTs", dist(figures.post)),
        ("  of which inside gunicorn", dist(server["generate"])),
        ("errors", f"{sum(figures.errors.values())}   {dict(figures.errors) if figures.errors else ''}"),
        ("  requests resent after a closed keep-alive connection", str(figures.resent)),
        ("jobs created in the measured window", f"{jobs['rows']}   {dict(jobs['states'])}"),
        ("queue lag: created -> submitted", dist(jobs["lag"])),
        ("  never submitted", str(jobs["unsubmitted"])),
        ("detection: completed_at - submitted_at - (queue+run)", dist(jobs["detect"])),
        ("collect: completed_at -> finished_at", dist(jobs["collect"])),
        ("driver event-loop lag (included above)", dist(figures.loop_lag)),
        ("card polls by minute (the machine may be shared)", ""),
        *by_minute(figures, args.warmup, wall),
        ("load average before / after", f"{load_before[0]:.2f} / {load_after[0]:.2f} (1 min), "
                                        f"{load_after[2]:.2f} (15 min), {os.cpu_count()} cores"),
    ]
    rows += [(f"CPU: {name}", f"{seconds:7.1f} s = {seconds / wall:.2f} cores") for name, seconds in cpu.items()]
    busy = [value for second, value in sorted(figures.machine_busy_by_second.items())
            if args.warmup <= second <= args.warmup + wall]
    if len(busy) > 1:
        rows.append(("  whole machine busy (all programs)", f"{(busy[-1] - busy[0]) / (len(busy) - 1):.2f} cores, "
                     f"this benchmark's processes {sum(cpu.values()) / wall:.2f}"))
    requests = len(figures.card) + len(figures.post)
    if requests:
        rows.append(("  gunicorn CPU per request", f"{cpu['gunicorn'] / requests * 1000:.1f} ms"))
        rows.append(("  load driver CPU per request", f"{cpu['load driver (this process)'] / requests * 1000:.2f} ms"))
    if jobs["failures"]:
        rows.append(("failed jobs", repr(dict(jobs["failures"]))[:300]))
    if died:
        rows.append(("PROCESSES THAT DIED", ", ".join(died)))
    print_table(f"{args.browsers} browsers polling 1/s + {args.generators} generators, {wall:.0f} s measured "
                f"(after {args.warmup:.0f} s warm-up); gunicorn {args.workers} workers x {args.threads} threads, "
                f"{database}; simulator queue {args.queue} s, run {args.run} s", rows)
    for example in figures.error_examples:
        print("  error:", example)


if __name__ == "__main__":
    main()
