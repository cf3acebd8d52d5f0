"""The SQLite backend's writers take turns within a process (atelier/sqlite_backend).

The speed it buys is measured in bench/ (generate_throughput.py); these tests check that taking
turns never loses a write or leaves the turn held (every other thread would then hang).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connections, transaction

from studio.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_default_database_is_sqlite_with_turns():
    assert connections["default"].vendor == "sqlite"
    assert type(connections["default"]).__module__ == "atelier.sqlite_backend.base"


def test_many_threads_writing_at_once_all_succeed_without_long_waits(member):
    rows = Generation.objects.bulk_create(
        Generation(user=member, model_id="fal-ai/flux-1/dev", model_title="FLUX", kind="text-to-image",
                   arguments={"prompt": "x"}, prompt="x", client_token=f"turns-{i}") for i in range(12))
    errors: list[BaseException] = []
    waits: list[float] = []
    guard = threading.Lock()

    def writer(generation_id) -> None:
        try:
            for n in range(30):
                started = time.perf_counter()
                if n % 2:
                    with transaction.atomic():  # BEGIN IMMEDIATE … COMMIT holds the turn
                        Generation.objects.filter(id=generation_id).update(check_failures=n)
                        Generation.objects.filter(id=generation_id).update(queue_position=n)
                else:  # a write outside a transaction holds it for one statement
                    Generation.objects.filter(id=generation_id).update(check_failures=n)
                with guard:
                    waits.append(time.perf_counter() - started)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=writer, args=(row.id,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(waits) == 12 * 30
    assert sorted(Generation.objects.values_list("check_failures", flat=True)) == [29] * 12


def test_a_failed_transaction_gives_the_turn_back(member):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            Generation.objects.filter(user=member).update(check_failures=1)
            raise RuntimeError("boom")
    finished = threading.Event()

    def other_thread_writes() -> None:
        Generation.objects.filter(user=member).update(check_failures=2)
        close_old_connections()
        finished.set()

    thread = threading.Thread(target=other_thread_writes)
    thread.start()
    thread.join(timeout=10)
    assert finished.is_set(), "another thread could not write after a rolled-back transaction"
