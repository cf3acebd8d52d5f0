"""Shared helpers for the benchmarks: a throw-away Atelier, jobs, the simulator's clock, tables."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MODEL_ID = "fal-ai/flux-1/dev"


def atelier_env(var_dir: str, fal_base_url: str, database_url: str | None = None) -> dict[str, str]:
    """The environment a throw-away Atelier (this process or a `manage.py` child) runs with."""
    env = {
        "DJANGO_SETTINGS_MODULE": "atelier.settings",
        "ATELIER_VAR_DIR": var_dir,
        "FAL_KEY": "x",
        "FAL_BASE_URL": fal_base_url,
        "FAL_AUTH_SCHEME": "key",
        "LOG_LEVEL": "warning",  # one INFO line per submit would distort the figures
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def setup_django(var_dir: str, fal_base_url: str, database_url: str | None = None) -> dict[str, str]:
    """Point Django at a temp var dir (SQLite + media) or DATABASE_URL, set up and migrate."""
    env = atelier_env(var_dir, fal_base_url, database_url)
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return env


def bench_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("bench", password="x")


def create_generations(count: int, *, prompt_token: str, image_size: str) -> list[str]:
    """`count` rows in state `submitting`, as the studio view leaves them for the worker."""
    from django.contrib.auth import get_user_model

    from studio.models import Generation

    # Made once, ahead of the timed part when the caller calls bench_user() first (hashing is slow).
    user = get_user_model().objects.filter(username="bench").first() or bench_user()
    rows = [
        Generation(user=user, model_id=MODEL_ID, model_title="FLUX.1 [dev]", kind="text-to-image",
                   arguments={"prompt": f"bench job {i} {prompt_token}", "image_size": image_size, "num_images": 1},
                   prompt=f"bench job {i}", client_token=f"bench-{i}")
        for i in range(count)
    ]
    Generation.objects.bulk_create(rows)
    return [str(row.id) for row in rows]


def wait_until_final(count: int, timeout: float, poll: float = 0.2) -> float:
    """Block until `count` generations are final; returns time.time() when seen."""
    from studio.models import Generation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Generation.objects.filter(state__in=Generation.FINAL_STATES).count() >= count:
            return time.time()
        time.sleep(poll)
    pending = Generation.objects.exclude(state__in=Generation.FINAL_STATES).count()
    raise SystemExit(f"timeout: {pending} of {count} jobs still not final after {timeout:.0f}s")


def wait_for_thumbnails(timeout: float, poll: float = 0.05) -> float:
    """Block until no output owes a thumbnail (gallery.previews); returns time.time() when seen."""
    from gallery.models import Asset

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Asset.objects.filter(thumbnail_due_at__isnull=False).exists():
            return time.time()
        time.sleep(poll)
    raise SystemExit(f"timeout: thumbnails still owed after {timeout:.0f}s")


def children_cpu(pid: int | None = None) -> float:
    """User + system CPU seconds of the living child processes of `pid` (default: this one)."""
    import psutil

    total = 0.0
    for child in psutil.Process(pid).children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def sim_completed_wall(sim, request_id: str) -> float | None:
    """When the simulator finished this request, on the wall clock (time.time())."""
    job = sim.jobs.get(request_id)
    if job is None:
        return None
    # The simulator times jobs on time.monotonic(); created_wall is the same instant on the wall clock.
    return job.created_wall + (job.completed_at - job.created_at)


def completed_walls(sim, request_ids: Iterable[str]) -> dict[str, float]:
    """When the simulator finished each request (time.time()), in this process or its own."""
    if hasattr(sim, "completed_walls"):  # bench/_simulator_process.SimulatorProcess
        return sim.completed_walls(list(request_ids))
    walls = {request_id: sim_completed_wall(sim, request_id) for request_id in request_ids}
    return {request_id: wall for request_id, wall in walls.items() if wall is not None}


def status_polls(sim) -> int:
    """Status requests the simulator has answered so far."""
    if hasattr(sim, "status_polls"):
        return sim.status_polls()
    return sum(1 for hit in sim.log if hit.path.endswith("/status"))


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its living children."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + children_cpu(pid)


def generation_rows() -> list[dict]:
    from studio.models import Generation

    return list(Generation.objects.values("id", "state", "request_id", "submitted_at", "completed_at",
                                          "finished_at", "error_type", "error_message"))


def process_cpu() -> float:
    """User + system CPU seconds this process has used so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far (all processes; tells whether others interfered)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0) \
        - getattr(times, "guest_nice", 0.0)


def pct(values: Iterable[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    if len(data) == 1:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[int(q) - 1] if q < 100 else data[-1]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 50), "p95": pct(values, 95), "max": max(values) if values else float("nan")}


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 30))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms"


def dist_ms(values: list[float]) -> str:
    s = summary(values)
    return f"p50 {s['p50'] * 1000:6.0f} ms   p95 {s['p95'] * 1000:6.0f} ms   max {s['max'] * 1000:6.0f} ms   (n={len(values)})"


def temp_dir(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=prefix)


def tls_context(workdir: str):
    """A server SSL context for 127.0.0.1 from a fresh trustme CA, and the CA's PEM path.

    Clients trust it through SSL_CERT_FILE (httpx honours it when creating a client).
    """
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_path = os.path.join(workdir, "bench-ca.pem")
    ca.cert_pem.write_to_path(ca_path)
    return context, ca_path


class ScratchPostgres:
    """A throw-away database on a PostgreSQL server: `with ScratchPostgres(url) as db_url: ...`.

    `url` names the server and a database to connect to for CREATE/DROP DATABASE, e.g.
    postgres://postgres@127.0.0.1:5432/postgres. Needs psycopg (pip install "psycopg[binary]").
    """

    def __init__(self, url: str) -> None:
        from urllib.parse import urlsplit, urlunsplit

        self.admin_url = url
        # ATELIER_BENCH_DB_SUFFIX (e.g. "_scale") tells apart the databases of people sharing a server.
        self.name = f"atelier_bench_{os.getpid()}_{int(time.time())}{os.environ.get('ATELIER_BENCH_DB_SUFFIX', '')}"
        parts = urlsplit(url)
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def __enter__(self) -> str:
        self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc_info: object) -> None:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
