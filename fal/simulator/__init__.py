"""A fal-compatible queue simulator: a real HTTP server for development, demos and tests.

Plain Python (stdlib + Pillow), no Django. See docs/simulator.md.
"""

from .config import SimulatorConfig
from .server import Simulator, SimulatorHit

__all__ = ["Simulator", "SimulatorConfig", "SimulatorHit"]
