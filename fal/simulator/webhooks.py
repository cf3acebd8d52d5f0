"""Webhook calls: when a request submitted with ``?fal_webhook=<url>`` completes, POST to it.

The body follows fal's WebHookResponse: ``{"request_id", "gateway_request_id", "status": "OK",
"payload"}`` or ``{"status": "ERROR", "error", "payload"}``. Like fal, a call that fails (no
answer, or not 2xx) is tried again later; here a few times within about half a minute.
One thread serves every pending call, so nothing runs per job.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .jobs import Job

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class WebhookCall:
    """One delivery attempt: ``status`` is the HTTP status, or 0 when no answer came."""

    request_id: str
    url: str
    attempt: int
    status: int


@dataclass
class _Pending:
    job: Job
    url: str
    attempt: int = 0
    due: float = 0.0  # monotonic; 0 = when the job completes


class WebhookSender:
    def __init__(self, body_for: Callable[[Job], dict[str, Any]]) -> None:
        self._body_for = body_for
        self._pending: list[_Pending] = []
        self._wake = threading.Condition()
        self._stopping = False
        self.calls: list[WebhookCall] = []
        self._thread: threading.Thread | None = None

    def add(self, job: Job, url: str) -> None:
        with self._wake:
            self._pending.append(_Pending(job, url))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fal-simulator-webhooks", daemon=True)
                self._thread.start()
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                now = time.monotonic()
                ready = [item for item in self._pending if now >= max(item.due, item.job.completed_at)]
                for item in ready:
                    self._pending.remove(item)
                if not ready:
                    # Cancelling moves completion earlier, so never sleep long.
                    self._wake.wait(0.05)
                    continue
            for item in ready:
                self._deliver(item)

    def _deliver(self, item: _Pending) -> None:
        item.attempt += 1
        payload = json.dumps(self._body_for(item.job)).encode()
        request = urllib.request.Request(item.url, data=payload, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, ValueError):
            status = 0
        self.calls.append(WebhookCall(item.job.request_id, item.url, item.attempt, status))
        if not 200 <= status < 300 and item.attempt <= len(RETRY_DELAYS):
            item.due = time.monotonic() + RETRY_DELAYS[item.attempt - 1]
            with self._wake:
                self._pending.append(item)
