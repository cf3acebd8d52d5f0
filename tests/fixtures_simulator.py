"""Pytest plugin: fal simulators on free ports, stopped at teardown.

``make_simulator(**overrides)`` builds a SimulatorConfig from fast test timings
(queue 0.2 s, run 0.2 s, port 0) plus the overrides, and starts it in a thread.
``simulator`` is one such default instance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fal.simulator import Simulator, SimulatorConfig

FAST_TIMINGS: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "queue_seconds": 0.2, "run_seconds": 0.2}


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def factory(**overrides: Any) -> Simulator:
        simulator = Simulator(SimulatorConfig(**{**FAST_TIMINGS, **overrides})).start()
        started.append(simulator)
        return simulator

    yield factory
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    return make_simulator()
