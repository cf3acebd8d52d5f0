"""Django's SQLite backend, with the threads of one process taking turns to write.

SQLite lets one connection write at a time. The others wait in its busy handler, which sleeps
1, 2, 5 … up to 100 ms between tries and is not woken when the lock frees: with a dozen threads
writing (the tracker's collectors, gunicorn's threads) a write could sleep hundreds of
milliseconds behind a lock that was free after one. So the threads of a process queue on a
Python lock, which is handed over at once; SQLite's own lock still decides between processes.

A transaction holds the turn from BEGIN (IMMEDIATE, see settings) to COMMIT or ROLLBACK; a write
outside a transaction holds it for that one statement. Reads never wait.
"""

from __future__ import annotations

import os
import threading

from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}  # database file -> its writers' turn
_locks_guard = threading.Lock()
_READS = ("SELECT", "EXPLAIN")


def _turn_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(name), threading.Lock())


def _forget_turns_after_fork() -> None:
    # A lock held by another thread at fork time would never be released in the child.
    global _locks_guard
    _locks.clear()
    _locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_turns_after_fork)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._turn: threading.Lock | None = None  # held by this connection until its commit/rollback
        self.execute_wrappers.append(self._take_turns)

    def _wait_for_turn(self) -> threading.Lock | None:
        """The turn, or None after waiting as long as SQLite itself would (SQLite then decides)."""
        turn = _turn_for(self.settings_dict["NAME"])
        if turn.acquire(timeout=self.settings_dict.get("OPTIONS", {}).get("timeout", 5)):
            return turn
        return None

    def _take_turns(self, execute, sql, params, many, context):
        if self._turn is not None or self.in_atomic_block:
            return execute(sql, params, many, context)  # inside our transaction: the turn is ours
        statement = sql.lstrip()[:7].upper()
        if statement.startswith(_READS):
            return execute(sql, params, many, context)
        turn = self._wait_for_turn()
        if statement.startswith("BEGIN"):
            self._turn = turn  # held until _commit / _rollback / _close (None: we waited in vain)
            try:
                return execute(sql, params, many, context)
            except BaseException:
                self._end_turn()
                raise
        try:
            return execute(sql, params, many, context)
        finally:
            if turn is not None:
                turn.release()

    def _end_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._end_turn()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._end_turn()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._end_turn()

