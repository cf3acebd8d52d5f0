"""A scaled-out Atelier on this machine: gunicorn, RQ worker and tracker processes over PostgreSQL and Redis.

Used by tests/scale and bench/rq_throughput.py. Every process is a real `manage.py` child with
the production-style settings (DATABASE_URL, TASKS_BACKEND=rq, REDIS_URL); each gets its own
process group so it can be stopped, or killed outright to play a machine that died.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("ATELIER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER_URL = os.environ.get("ATELIER_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# Redis databases a test run may take (one at a time, marked with a lock key).
REDIS_DATABASES = range(5, 16)


def postgres_problem() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL is not reachable at {POSTGRES_URL} ({str(error).strip().splitlines()[0]})"


def redis_problem() -> str | None:
    try:
        import redis
    except ImportError:
        return "redis is not installed (pip install -e '.[test]')"
    try:
        redis.Redis.from_url(REDIS_SERVER_URL, socket_connect_timeout=3).ping()
        return None
    except redis.RedisError as error:
        return f"Redis is not reachable at {REDIS_SERVER_URL} ({error})"


class ScratchDatabase:
    """A PostgreSQL database of our own, dropped at the end."""

    def __init__(self, suffix: str = "scale") -> None:
        self.name = f"atelier_t{uuid.uuid4().hex[:10]}_{suffix}"
        self.url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + self.name))

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(sql)

    def __enter__(self) -> ScratchDatabase:
        self._admin(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url) as connection:
            return connection.execute(sql, params).fetchall()


class ScratchRedis:
    """An empty Redis database of our own (5–15), claimed with a lock key and emptied at the end."""

    def __init__(self) -> None:
        import redis

        self.token = secrets.token_hex(8)
        for number in REDIS_DATABASES:
            connection = redis.Redis.from_url(f"{REDIS_SERVER_URL}/{number}")
            if connection.dbsize() == 0 and connection.set("atelier:test-lock", self.token, nx=True, ex=3600):
                self.connection, self.url = connection, f"{REDIS_SERVER_URL}/{number}"
                return
        raise RuntimeError(f"no empty Redis database among {list(REDIS_DATABASES)} on {REDIS_SERVER_URL}")

    def close(self) -> None:
        self.connection.flushdb()
        self.connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """Processes of one Atelier installation; `stop()` ends them all."""

    def __init__(self, *, database_url: str, redis_url: str, fal_base_url: str, var_dir: Path,
                 fal_key: str = "sk-scale-test", **extra_env: str) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ATELIER_", "FAL_", "S3_"))},
            "DJANGO_SETTINGS_MODULE": "atelier.settings",
            "PYTHONPATH": str(REPO),
            "ATELIER_VAR_DIR": str(var_dir),
            "SECRET_KEY": "scale-test-" + "x" * 40,
            "DATABASE_URL": database_url,
            "TASKS_BACKEND": "rq",
            "REDIS_URL": redis_url,
            "FAL_KEY": fal_key,
            "FAL_BASE_URL": fal_base_url,
            "FAL_AUTH_SCHEME": "key",
            "LOG_LEVEL": "warning",
            **extra_env,
        }
        self.var_dir = var_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def manage(self, *args: str, timeout: float = 300, **env: str) -> str:
        completed = subprocess.run([sys.executable, str(REPO / "manage.py"), *args], env={**self.env, **env},
                                   capture_output=True, text=True, timeout=timeout, cwd=REPO)
        if completed.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
        return completed.stdout

    def start(self, name: str, *args: str, program: tuple[str, ...] = (), wrap: tuple[str, ...] = (),
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a child; `wrap` is a command prefix (e.g. one that joins a cgroup), `env` extra variables."""
        log = self.var_dir / f"{name}.log"
        self.logs[name] = log
        with open(log, "wb") as out:
            process = subprocess.Popen([*wrap, *(program or (sys.executable, str(REPO / "manage.py"))), *args],
                                       env={**self.env, **(env or {})}, cwd=REPO, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_worker(self, name: str, worker_class: str = "", **options) -> subprocess.Popen:
        # As the deployment guide says; --with-scheduler runs the delayed retries (run_after).
        extra = ["--worker-class", worker_class] if worker_class else []
        return self.start(name, "rqworker", "default", "--job-class", "django_tasks_rq.Job", "--with-scheduler",
                          *extra, "--name", f"{name}-{os.getpid()}-{secrets.token_hex(3)}", **options)

    def start_tracker(self, name: str, **options) -> subprocess.Popen:
        return self.start(name, "track", **options)

    def start_web(self, name: str) -> str:
        port = free_port()
        # The production web server, as docs/deployment.md runs it (smaller: the machine is shared).
        self.start(name, "atelier.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2",
                   "--worker-class", "gthread", program=(sys.executable, "-m", "gunicorn"))
        url = f"http://127.0.0.1:{port}"
        _wait_for_port(port, self.processes[name], self.logs[name])
        return url

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to tidy up, as when a machine dies."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def dead(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def output(self) -> str:
        return "\n".join(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}" for name, path in self.logs.items()
                         if path.exists())


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web process ended:\n{log.read_text(errors='replace')}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the web process did not listen on {port} within {timeout}s")
