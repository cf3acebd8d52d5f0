"""`manage.py start`: everything `make run` needs, as child processes of one command.

The web server and the job tracker always; a task worker for the configured queue (`db_worker`
for the database, `rqworker` for RQ on Redis); the fal simulator when no FAL_KEY is set. Ctrl-C or SIGTERM stops them all; if one of them dies,
the others are stopped too and the command exits non-zero, naming the one that died.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

STOP_TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 0.2
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"}


@dataclass(frozen=True)
class Service:
    """One child process: a name people read, its command line, the port it binds (if any)."""

    name: str
    argv: list[str]
    host: str | None = None
    port: int | None = None
    url: str | None = None


def build_services(host: str = "127.0.0.1", port: int = 8000, python: str | None = None) -> list[Service]:
    """The processes `start` runs under the current settings, in start order."""
    manage = [python or sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    # A server listening on every interface is still opened through this machine's name.
    web_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else _url_host(host)}:{port}"
    services = [
        Service(
            "web server",
            # No autoreloader: it forks a grandchild that would outlive a stop signal.
            [*manage, "runserver", f"{_url_host(host)}:{port}", "--noreload"],
            host=host,
            port=port,
            url=web_url,
        )
    ]
    if settings.TASKS_BACKEND == "database":
        services.append(Service("task worker", [*manage, "db_worker", "--no-reload"]))
    elif settings.TASKS_BACKEND == "rq":
        # As docs/deployment.md runs it; --with-scheduler runs the delayed retries (run_after).
        services.append(Service("task worker", [*manage, "rqworker", "default", "--job-class", "django_tasks_rq.Job",
                                                "--with-scheduler"]))
    services.append(Service("job tracker", [*manage, "track"]))
    if settings.FAL_USES_SIMULATOR:
        simulator = urlsplit(settings.FAL_SIMULATOR_URL)
        sim_host = simulator.hostname or "127.0.0.1"
        sim_port = simulator.port or (443 if simulator.scheme == "https" else 80)
        # A simulator elsewhere (FAL_SIMULATOR_URL on another machine) is not ours to start.
        if sim_host in _LOCAL_HOSTS:
            services.append(
                Service(
                    "fal simulator",
                    [*manage, "fal_simulator", "--host", sim_host, "--port", str(sim_port)],
                    host=sim_host,
                    port=sim_port,
                    url=settings.FAL_SIMULATOR_URL,
                )
            )
    return services


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be bound, or None when it is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Same option the servers use, so a port left in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def supervise(
    services: list[Service], out: TextIO, stop: threading.Event | None = None, ready_message: str = ""
) -> tuple[int, str]:
    """Run the services until `stop` is set (exit 0) or one of them ends (exit 1).

    Each child gets its own process group: Ctrl-C in the terminal reaches only us, and we
    stop the children in order instead of each printing its own traceback.
    """
    stop = stop or threading.Event()
    running: list[tuple[Service, subprocess.Popen]] = []
    try:
        for service in services:
            process = subprocess.Popen(service.argv, start_new_session=True)
            running.append((service, process))
            where = f" on {service.url}" if service.url else ""
            out.write(f"  {service.name:<14} started{where} (pid {process.pid})\n")
        if ready_message:
            out.write(f"{ready_message}\n")
        out.flush()
        while not stop.wait(POLL_SECONDS):
            for service, process in running:
                code = process.poll()
                if code is not None:
                    return 1, f"The {service.name} stopped unexpectedly (exit code {code}); Atelier stopped the rest."
        return 0, "Stopped."
    finally:
        stop_all([process for _, process in running])


def stop_all(processes: list[subprocess.Popen], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM every child's process group, wait up to `timeout` seconds, then SIGKILL."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


class Command(BaseCommand):
    help = "Start Atelier: web server, task worker and (without FAL_KEY) the fal simulator."
    requires_system_checks = []  # the children run the checks themselves

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address the web server listens on (default 127.0.0.1)."
        )
        parser.add_argument("--port", type=int, default=8000, help="Port of the web server (default 8000).")

    def handle(self, *args, host: str, port: int, **options) -> None:
        services = build_services(host, port)
        for service in services:
            if service.port is None:
                continue
            problem = port_problem(service.host or "127.0.0.1", service.port)
            if problem:
                remedy = "start with --port <another>" if service is services[0] else "set FAL_SIMULATOR_URL"
                self.stderr.write(
                    f"Port {service.port} on {service.host} is not free for the {service.name} ({problem}). "
                    f"Stop the program using it, or {remedy}."
                )
                raise SystemExit(1)

        stop = threading.Event()
        # Ctrl-C and SIGTERM only ask the loop to stop; `supervise` then stops the children.
        previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
        ready = f"Open {services[0].url} in your browser. Press Ctrl-C to stop."
        try:
            self.stdout.write("Starting Atelier:")
            code, message = supervise(services, self.stdout, stop, ready_message=ready)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if code:
            self.stderr.write(message)
            raise SystemExit(code)
        self.stdout.write(message)
