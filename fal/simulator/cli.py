"""Command-line options shared by ``python -m fal.simulator`` and ``manage.py fal_simulator``."""

from __future__ import annotations

import argparse
import ssl
from collections.abc import Callable, Mapping
from typing import Any

from .config import SimulatorConfig
from .models import MODELS
from .server import Simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (default 8765; 0 = any free port)")
    parser.add_argument("--queue-seconds", type=float, default=1.0, help="time a request waits in the queue")
    parser.add_argument("--run-seconds", type=float, default=2.0, help="time a request runs")
    parser.add_argument("--file-ttl", type=float, default=600.0, help="seconds output files stay downloadable")
    parser.add_argument("--result-ttl", type=float, default=3600.0, help="seconds results stay available")
    parser.add_argument("--proxy", action="store_true",
                        help="aggregator mode: Bearer auth, queue URLs on https://queue.fal.run")
    parser.add_argument("--key", default=None, help="require exactly this key (default: any non-empty key)")
    parser.add_argument("--certfile", default=None, help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--keyfile", default=None, help="private key for --certfile")


def config_from_options(options: Mapping[str, Any], verbose: bool = False) -> SimulatorConfig:
    context = None
    if options.get("certfile"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options["certfile"], options.get("keyfile"))
    return SimulatorConfig(
        host=options["host"], port=options["port"],
        queue_seconds=options["queue_seconds"], run_seconds=options["run_seconds"],
        file_ttl_seconds=options["file_ttl"], result_ttl_seconds=options["result_ttl"],
        proxy_mode=options["proxy"], key=options["key"], ssl_context=context, verbose=verbose,
    )


def run(config: SimulatorConfig, write: Callable[[str], None]) -> None:
    """Serve until Ctrl-C, announcing the base URL first."""

    def announce(simulator: Simulator) -> None:
        auth = "Bearer" if config.proxy_mode else "Key"
        write(f"fal simulator listening on {simulator.base_url}")
        write(f"  auth: Authorization: {auth} <{'the configured key' if config.key else 'any key'}>; "
              f"{len(MODELS)} known models; queue {config.queue_seconds}s, run {config.run_seconds}s")
        write("  Ctrl-C to stop")

    try:
        Simulator(config).serve_forever(on_ready=announce)
    except KeyboardInterrupt:
        write("stopped")
