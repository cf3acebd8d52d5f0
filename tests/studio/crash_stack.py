"""A whole Atelier on one machine for the crash suite: real web, worker and tracker processes
on a SQLite file, killable at any moment, plus read-only views of what they left behind.

The fal simulator runs in the test process (a thread), so the suite can count what the
service received. Processes write their output to log files the suite scans for the key.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import SENTINEL_KEY

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "crash-suite-password-1"
FINAL_STATES = ("done", "failed", "cancelled")
COMMANDS = {
    "web": ["runserver", "{web}", "--noreload", "--skip-checks"],
    "worker": ["db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
    "tracker": ["track", "--threads", "4"],
}


READY = {"worker": "Starting worker", "tracker": "Tracking jobs with"}


def free_port(first: int = 8100, last: int = 8199) -> int:
    """A free port in this suite's range (another suite may use the rest of the machine)."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


def build_template(folder: Path) -> Path:
    """A migrated database with one administrator, made once and copied for each test."""
    folder.mkdir(parents=True, exist_ok=True)
    env = base_env(folder, fal_url="http://127.0.0.1:9")
    run_manage(env, "migrate", "--noinput")
    run_manage(env, "createsuperuser", "--noinput", "--username", "crash", "--email", "crash@example.com",
               extra_env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD})
    return folder / "db.sqlite3"


def base_env(folder: Path, *, fal_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FAL_", "ATELIER_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "atelier.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "DATABASE_CONN_MAX_AGE": "0",
        "ATELIER_VAR_DIR": str(folder / "var"),
        "MEDIA_ROOT": str(folder / "media"),
        "SECRET_KEY": "crash-suite-secret-key-0123456789-abcdefghij",
        "ATELIER_ENV": "local",
        "DEBUG": "false",
        "TASKS_BACKEND": "database",
        "FAL_KEY": SENTINEL_KEY,
        "FAL_BASE_URL": fal_url,
        "FAL_AUTH_SCHEME": "key",
        "LOG_LEVEL": "info",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("DATABASE_URL_FILE", None)
    return env


def run_manage(env: dict[str, str], *args: str, extra_env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env={**env, **(extra_env or {})},
                   check=True, capture_output=True, timeout=180)


@dataclass
class Kill:
    at: float
    process: str
    uptime: float
    moment: str  # what the process was doing, as far as can be seen from outside


@dataclass
class Stack:
    folder: Path
    simulator: object
    template: Path
    public_url: bool = True
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.template, self.folder / "db.sqlite3")
        self.port = free_port()
        self.web_url = f"http://127.0.0.1:{self.port}"
        self.env = base_env(self.folder, fal_url=self.simulator.base_url)
        self.env.update({"FAL_TIMEOUT_SECONDS": "2", "TRACK_LEASE_SECONDS": "8",
                         "ATELIER_SUBMIT_CONFIRM_SECONDS": "10", **self.settings})
        if self.public_url:
            self.env["PUBLIC_BASE_URL"] = self.web_url
        self.processes: dict[str, subprocess.Popen] = {}
        self.started: dict[str, float] = {}
        self.logs: list[Path] = []
        self.kills: list[Kill] = []
        self.media = self.folder / "media"
        self.database = self.folder / "db.sqlite3"

    # --- processes --------------------------------------------------------------------
    def start(self, name: str) -> None:
        log = self.folder / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        command = [part.format(web=f"127.0.0.1:{self.port}") for part in COMMANDS[name]]
        with open(log, "wb") as output:
            self.processes[name] = subprocess.Popen([sys.executable, "manage.py", *command], cwd=REPO, env=self.env,
                                                    stdout=output, stderr=subprocess.STDOUT)
        self.started[name] = time.monotonic()
        if name == "web":
            self.wait_for_web()

    def wait_ready(self, name: str, timeout: float = 30.0) -> None:
        """Until the process says it is at work (the web server answers)."""
        if name == "web":
            return self.wait_for_web(timeout)
        marker = READY[name].encode()
        log = self.logs[max(i for i, path in enumerate(self.logs) if path.name.startswith(f"{name}-"))]
        deadline = time.monotonic() + timeout
        while marker not in log.read_bytes():
            if time.monotonic() > deadline or self.processes[name].poll() is not None:
                raise AssertionError(f"{name} did not start; see {log}")
            time.sleep(0.05)
        self.started[name] = time.monotonic()

    def wait_for_web(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.web_url}/login/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the web server did not start; see {self.logs[-1]}")

    def kill(self, name: str) -> Kill:
        process = self.processes[name]
        moment = self.moment_of(name, process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        kill = Kill(time.monotonic(), name, time.monotonic() - self.started[name], moment)
        self.kills.append(kill)
        return kill

    def wait_for_moment(self, name: str, moments: tuple[str, ...], timeout: float) -> None:
        """Until the process is at one of these moments (or the time is up: then any moment)."""
        pid = self.processes[name].pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.moment_of(name, pid) not in moments:
            time.sleep(0.01)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def live_pids(self) -> set[int]:
        return {process.pid for process in self.processes.values() if process.poll() is None}

    # --- what can be seen from outside ------------------------------------------------
    def query(self, sql: str, *args) -> list[tuple]:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        try:
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()

    def moment_of(self, name: str, pid: int) -> str:
        """Where a process was when killed: a send in the air (claimed, not answered), else what
        its scratch files show (downloads, thumbnails). The worker sends jobs with input images,
        the tracker the others (studio.sending)."""
        with_images = "EXISTS" if name == "worker" else "NOT EXISTS"
        [(sending,)] = self.query(
            "SELECT COUNT(*) FROM studio_generation g WHERE state='submitting' AND request_id='' "
            "AND next_check_at > strftime('%Y-%m-%d %H:%M:%f', 'now') AND "
            f"{with_images} (SELECT 1 FROM studio_generation_input_assets i WHERE i.generation_id = g.id)")
        if sending:
            return "submitting"
        scratch = [path.name for folder in (self.media / "tmp").glob(f"*-{pid}-*") for path in folder.iterdir()]
        if any(name.startswith("placing-") for name in scratch):
            return "placing files"
        if any(name.startswith(("th-", "po-")) for name in scratch):
            return "thumbnailing"
        if any(name.startswith("in-") for name in scratch):
            return "downloading"
        if name == "worker":
            return "idle"
        [(tracked,)] = self.query("SELECT COUNT(*) FROM studio_generation WHERE state IN ('queued','running','collecting')")
        return "tracking" if tracked else "idle"

    def generations(self) -> list[dict]:
        columns = ("id", "state", "request_id", "error_type", "prompt", "waiting_reason")
        rows = self.query(f"SELECT {', '.join(columns)} FROM studio_generation")
        return [dict(zip(columns, row)) for row in rows]

    def assets(self) -> list[dict]:
        columns = ("generation_id", "position", "source", "file", "thumbnail")
        return [dict(zip(columns, row)) for row in self.query(f"SELECT {', '.join(columns)} FROM gallery_asset")]

    def scratch_files(self, *, except_pids: set[int] = frozenset()) -> list[Path]:
        tmp = self.media / "tmp"
        if not tmp.is_dir():
            return []
        return [path for path in tmp.rglob("*") if path.is_file()
                and not any(f"-{pid}-" in path.relative_to(tmp).parts[0] for pid in except_pids)]

    def wait_until_final(self, count: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            generations = self.generations()
            if len(generations) >= count and all(g["state"] in FINAL_STATES for g in generations):
                return generations
            if time.monotonic() > deadline:
                return generations
            time.sleep(0.5)

    def key_leaks(self) -> list[str]:
        return [log.name for log in self.logs if SENTINEL_KEY in log.read_text(errors="replace")]

    def tracebacks(self) -> int:
        return sum(log.read_text(errors="replace").count("Traceback") for log in self.logs)


class Browser:
    """A logged-in person sending generate forms, like the browser does (no JavaScript needed)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.client = httpx.Client(base_url=stack.web_url, timeout=30, follow_redirects=False)
        self.client.get("/login/")
        answer = self.client.post("/login/", data={"username": "crash", "password": PASSWORD,
                                                   "csrfmiddlewaretoken": self.csrf})
        assert answer.status_code == 302, "could not log in"

    @property
    def csrf(self) -> str:
        return self.client.cookies["csrftoken"]

    def generate(self, model_id: str, fields: dict[str, str], timeout: float = 30,
                 files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
        return self.client.post(f"/generate/{model_id}/", data={**fields, "csrfmiddlewaretoken": self.csrf},
                                files=files, timeout=timeout)

    def close(self) -> None:
        self.client.close()


TAG = re.compile(r"crash-\d{3}")


@dataclass
class Counts:
    jobs: int
    stuck: int
    lost: int
    duplicates: int
    double_submits: int
    orphans: int
    missing_files: int
    states: Counter
    orphan_names: list[str] = field(default_factory=list)  # so a failure says which files

    def __str__(self) -> str:
        return (f"jobs={self.jobs} stuck={self.stuck} lost={self.lost} duplicates={self.duplicates} "
                f"double_submits={self.double_submits} orphans={self.orphans} missing_files={self.missing_files} "
                f"states={dict(self.states)}" + (f" orphan files={self.orphan_names[:5]}" if self.orphan_names else ""))


def count(stack: Stack, simulator, generations: list[dict]) -> Counts:
    """Compare what the service ran with what Atelier kept."""
    assets = stack.assets()
    outputs = [asset for asset in assets if asset["source"] == "output"]
    by_request = {g["request_id"]: g for g in generations if g["request_id"]}
    upstream = [job for job in simulator.jobs.all() if TAG.search(job.prompt)]
    submits = Counter(TAG.search(job.prompt).group() for job in upstream)
    saved = Counter((asset["generation_id"]) for asset in outputs)
    lost = 0
    for job in upstream:
        if job.error() is not None:
            continue  # failed or cancelled upstream: nothing to keep
        generation = by_request.get(job.request_id)
        kept = saved[generation["id"]] if generation else 0
        lost += max(0, len(job.files) - kept)
    positions = Counter((asset["generation_id"], asset["position"]) for asset in outputs)
    duplicates = sum(n - 1 for n in positions.values() if n > 1)
    expected = {g["id"]: len(simulator.jobs.get(g["request_id"]).files) for g in generations
                if g["request_id"] and simulator.jobs.get(g["request_id"])}
    duplicates += sum(max(0, saved[gid] - n) for gid, n in expected.items())
    recorded = {name for asset in assets for name in (asset["file"], asset["thumbnail"]) if name}
    on_disk = {str(path.relative_to(stack.media)) for path in stack.media.rglob("*") if path.is_file()}
    orphan_names = sorted(name for name in on_disk if name not in recorded)  # tmp files count too
    missing = len({name for name in recorded if name not in on_disk})
    return Counts(
        jobs=len(generations),
        stuck=sum(g["state"] not in FINAL_STATES for g in generations),
        lost=lost, duplicates=duplicates,
        double_submits=sum(n - 1 for n in submits.values() if n > 1),
        orphans=len(orphan_names), orphan_names=orphan_names, missing_files=missing,
        states=Counter(f"{g['state']}{'/' + g['error_type'] if g['error_type'] else ''}" for g in generations),
    )
