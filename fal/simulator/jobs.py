"""Request state. A job's phase is computed from elapsed time, so no thread works per job."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from .drawing import render_image
from .faults import FAIL_MESSAGES, Faults
from .models import ModelSpec
from .outputs import OutputFile

Phase = Literal["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]

CANCELLED_MESSAGE = "The request was cancelled."
CANCELLED_TYPE = "request_cancelled"
INITIAL_QUEUE_POSITION = 3  # positions count down 2, 1, 0 across the queue time
FORGET_AFTER_SECONDS = 600.0  # how long expired jobs still answer 410 for their files


@dataclass
class Job:
    request_id: str
    model_id: str
    prefix: str
    spec: ModelSpec
    prompt: str
    seed: int
    faults: Faults
    files: list[OutputFile]
    steps: int
    created_at: float  # time.monotonic(), drives the phase
    created_wall: float  # time.time(), only for log timestamps
    queue_seconds: float
    run_seconds: float
    result_ttl: float
    file_ttl: float
    cancelled_at: float | None = None
    status_polls: int = 0
    _rendered: dict[int, bytes] = field(default_factory=dict, repr=False)
    _render_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- timeline ---------------------------------------------------------------------------
    @property
    def started_at(self) -> float:
        return self.created_at + self.queue_seconds

    @property
    def completed_at(self) -> float:
        finished = self.started_at + self.run_seconds
        return finished if self.cancelled_at is None else min(self.cancelled_at, finished)

    def phase(self, now: float) -> Phase:
        if now >= self.completed_at:
            return "COMPLETED"
        return "IN_QUEUE" if now < self.started_at else "IN_PROGRESS"

    def queue_position(self, now: float) -> int:
        if self.queue_seconds <= 0:
            return 0
        remaining = max(0.0, self.started_at - now)
        return min(INITIAL_QUEUE_POSITION - 1, int(INITIAL_QUEUE_POSITION * remaining / self.queue_seconds))

    def error(self) -> tuple[str, str] | None:
        """(message, error_type) of a request that ended badly, else None."""
        if self.cancelled_at is not None and self.cancelled_at < self.started_at + self.run_seconds:
            return CANCELLED_MESSAGE, CANCELLED_TYPE
        if self.faults.fail:
            message = FAIL_MESSAGES.get(self.faults.fail, f"Simulated failure ({self.faults.fail}).")
            return message, self.faults.fail
        return None

    def result_expired(self, now: float) -> bool:
        return self.phase(now) == "COMPLETED" and now >= self.completed_at + self.result_ttl

    def files_expired(self, now: float) -> bool:
        return now >= self.completed_at + self.file_ttl

    def forgettable(self, now: float) -> bool:
        keep = max(self.result_ttl, self.file_ttl) + FORGET_AFTER_SECONDS
        return self.phase(now) == "COMPLETED" and now >= self.completed_at + keep

    # -- logs -------------------------------------------------------------------------------
    def logs(self, now: float) -> list[dict[str, Any]]:
        """Log lines so far: they grow through the run like a real runner's output."""
        entries: list[tuple[float, str, str]] = []  # (offset from creation, level, message)
        start = self.queue_seconds
        entries.append((start, "INFO", f"Loading model {self.model_id}"))
        for step in range(1, self.steps + 1):
            at = start + self.run_seconds * step / (self.steps + 1)
            entries.append((at, "INFO", f"Step {step}/{self.steps}"))
        end = self.completed_at - self.created_at
        problem = self.error()
        if problem is None:
            what = "video" if self.spec.family == "video" else f"{len(self.files)} image(s)"
            entries.append((end, "INFO", f"Generated {what}"))
        elif problem[1] == CANCELLED_TYPE:
            entries = [entry for entry in entries if entry[0] < end]
            entries.append((end, "INFO", CANCELLED_MESSAGE))
        else:
            entries.append((end, "ERROR", problem[0]))
        elapsed = now - self.created_at
        return [
            {"message": message, "level": level, "source": "USER", "timestamp": self._timestamp(offset)}
            for offset, level, message in entries
            if offset <= elapsed
        ]

    def _timestamp(self, offset: float) -> str:
        return datetime.fromtimestamp(self.created_wall + offset, tz=timezone.utc).isoformat()

    # -- files ------------------------------------------------------------------------------
    def file(self, name: str) -> OutputFile | None:
        return next((f for f in self.files if f.name == name), None)

    def image_bytes(self, output: OutputFile) -> bytes:
        """Draw on first download and keep the bytes; status/result never wait for drawing."""
        with self._render_lock:
            data = self._rendered.get(output.index)
            if data is None:
                data = render_image(
                    width=output.width, height=output.height, seed=self.seed, prompt=self.prompt,
                    model_id=self.model_id, image_format=output.image_format or "jpeg",
                    index=output.index, count=len(self.files),
                )
                self._rendered[output.index] = data
            return data

    def drop_rendered(self) -> None:
        with self._render_lock:
            self._rendered.clear()


class JobStore:
    """All jobs, behind one lock; handler threads share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._last_sweep = 0.0

    def add(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.request_id] = job

    def get(self, request_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(request_id)

    def count_status_poll(self, job: Job) -> int:
        """Number this poll (1-based); the fault switches for polls key off it."""
        with self._lock:
            job.status_polls += 1
            return job.status_polls

    def cancel(self, job: Job, now: float) -> bool:
        """Cancel unless already completed; True when the cancellation was accepted."""
        with self._lock:
            if job.phase(now) == "COMPLETED":
                return False
            job.cancelled_at = now
            return True

    def sweep(self, now: float, every: float = 10.0) -> None:
        """Free memory: drop drawn files once expired, forget jobs long past every TTL."""
        with self._lock:
            if now - self._last_sweep < every:
                return
            self._last_sweep = now
            jobs = list(self._jobs.values())
            for job in jobs:
                if job.forgettable(now):
                    del self._jobs[job.request_id]
        for job in jobs:
            if job.phase(now) == "COMPLETED" and job.files_expired(now):
                job.drop_rendered()

    def all(self) -> list[Job]:
        """Every request still remembered (tests count submissions with it)."""
        with self._lock:
            return list(self._jobs.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)
