"""Settings of one simulator instance."""

from __future__ import annotations

import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class SimulatorConfig:
    """How a :class:`~fal.simulator.Simulator` listens, times jobs and authenticates.

    ``port=0`` picks a free port (read it back from ``Simulator.base_url``).
    ``key=None`` accepts any non-empty key; a string requires exactly that key.
    ``proxy_mode`` imitates the aggregator: ``Bearer`` auth, and queue URLs in
    responses point at ``https://queue.fal.run`` so clients must rewrite the host.
    """

    host: str = "127.0.0.1"
    port: int = 0
    queue_seconds: float = 1.0
    run_seconds: float = 2.0
    file_ttl_seconds: float = 600.0
    result_ttl_seconds: float = 3600.0
    proxy_mode: bool = False
    key: str | None = None
    ssl_context: ssl.SSLContext | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        # Fail at construction, not on the first request, when a value makes no sense.
        for name in ("queue_seconds", "run_seconds", "file_ttl_seconds", "result_ttl_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"SimulatorConfig.{name} must not be negative")
        if not 0 <= self.port <= 65535:
            raise ValueError("SimulatorConfig.port must be between 0 and 65535")
        if self.key is not None and not self.key:
            raise ValueError("SimulatorConfig.key must be None (any key) or a non-empty string")
