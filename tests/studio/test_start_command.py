"""`manage.py start`: which processes it runs, port checks, and stopping them together."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import threading

import pytest
from django.core.management import call_command
from django.test import override_settings

from studio.management.commands.start import Service, build_services, port_problem, stop_all, supervise


def _names(services: list[Service]) -> list[str]:
    return [service.name for service in services]


@override_settings(FAL_USES_SIMULATOR=True, TASKS_BACKEND="database", FAL_SIMULATOR_URL="http://127.0.0.1:8765")
def test_default_install_runs_web_worker_tracker_and_simulator():
    services = build_services("127.0.0.1", 8000, python="python")
    assert _names(services) == ["web server", "task worker", "job tracker", "fal simulator"]
    web, worker, tracker, simulator = services
    assert tracker.argv[2:] == ["track"]
    assert web.argv[2:] == ["runserver", "127.0.0.1:8000", "--noreload"]
    assert (web.port, web.url) == (8000, "http://127.0.0.1:8000")
    assert worker.argv[2:] == ["db_worker", "--no-reload"]
    assert simulator.argv[2:] == ["fal_simulator", "--host", "127.0.0.1", "--port", "8765"]
    assert all(service.argv[1].endswith("manage.py") for service in services)


@override_settings(FAL_USES_SIMULATOR=False, TASKS_BACKEND="database")
def test_with_a_fal_key_no_simulator_is_started():
    assert _names(build_services()) == ["web server", "task worker", "job tracker"]


@override_settings(FAL_USES_SIMULATOR=False, TASKS_BACKEND="rq")
def test_with_rq_the_task_worker_is_an_rq_worker_that_also_runs_delayed_retries():
    services = build_services(python="python")
    assert _names(services) == ["web server", "task worker", "job tracker"]
    assert services[1].argv[2:] == ["rqworker", "default", "--job-class", "django_tasks_rq.Job", "--with-scheduler"]


@override_settings(FAL_USES_SIMULATOR=True, TASKS_BACKEND="immediate")
def test_worker_only_for_the_database_backend():
    assert _names(build_services()) == ["web server", "job tracker", "fal simulator"]


@override_settings(FAL_USES_SIMULATOR=True, FAL_SIMULATOR_URL="http://sim.internal:9000")
def test_a_simulator_on_another_machine_is_not_started_here():
    assert "fal simulator" not in _names(build_services())


def test_options_choose_the_web_address():
    web = build_services("0.0.0.0", 9001)[0]
    assert web.argv[-2] == "0.0.0.0:9001"
    assert web.url == "http://127.0.0.1:9001"


def test_port_problem_reports_a_busy_port_and_accepts_a_free_one():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        assert port_problem("127.0.0.1", busy)
    assert port_problem("127.0.0.1", busy) is None


def test_start_refuses_a_busy_port_with_one_clear_line():
    err = io.StringIO()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        with pytest.raises(SystemExit) as exit_info:
            call_command("start", port=busy, stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert f"Port {busy} on 127.0.0.1 is not free for the web server" in err.getvalue()
    assert err.getvalue().count("\n") == 1


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_when_one_child_dies_the_others_are_stopped():
    sleeper = Service("sleeper", _python("import time; time.sleep(60)"))
    crasher = Service("task worker", _python("import time; time.sleep(0.3); raise SystemExit(3)"))
    out = io.StringIO()
    code, message = supervise([sleeper, crasher], out, ready_message="Open it.")
    assert code == 1
    assert message.startswith("The task worker stopped unexpectedly (exit code 3)")
    assert "sleeper" in out.getvalue() and "Open it." in out.getvalue()


def test_stop_signal_ends_every_child():
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    code, message = supervise([Service("sleeper", _python("import time; time.sleep(60)"))], io.StringIO(), stop)
    assert (code, message) == (0, "Stopped.")


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout():
    ignore_sigterm = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True)"
    stubborn = subprocess.Popen(
        _python(f"{ignore_sigterm}; time.sleep(60)"),
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout.readline().strip() == b"ready"
    stop_all([stubborn], timeout=0.3)
    assert stubborn.returncode == -9
