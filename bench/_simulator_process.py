"""The fal simulator in a process of its own, as fal is: its CPU is not the client's.

In one process with the client, the simulator's image drawing (10-15 ms per 512x512 JPEG)
and the client's own work share one GIL, so each slows the other in ways a real deployment
never sees. Both sides of a comparison use this the same way.

    with SimulatorProcess(queue_seconds=0, run_seconds=0) as sim:
        sim.base_url                  # http://127.0.0.1:<port> (https with tls_dir)
        sim.completed_walls(ids)      # request id -> when the simulator finished it (time.time())
        sim.status_polls()            # status requests answered so far
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import ssl


def _serve(connection, config: dict, cert_chain: str | None) -> None:
    from fal.simulator import Simulator, SimulatorConfig

    if cert_chain:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_chain)
        config = {**config, "ssl_context": context}
    with Simulator(SimulatorConfig(**config)) as sim:
        connection.send(sim.base_url)
        while True:
            command, argument = connection.recv()
            if command == "completed":
                walls = {}
                for request_id in argument:
                    job = sim.jobs.get(request_id)
                    if job is not None:  # monotonic run time on the wall clock of its creation
                        walls[request_id] = job.created_wall + (job.completed_at - job.created_at)
                connection.send(walls)
            elif command == "polls":
                connection.send(sum(1 for hit in sim.log if hit.path.endswith("/status")))
            else:
                connection.send(None)
                return


class SimulatorProcess:
    """`tls_dir`: serve HTTPS with a fresh trustme CA, whose PEM is then at `ca_path`."""

    def __init__(self, *, tls_dir: str | None = None, **config) -> None:
        self.config = config
        self.tls_dir = tls_dir
        self.ca_path: str | None = None
        self.base_url = ""

    def __enter__(self) -> SimulatorProcess:
        cert_chain = None
        if self.tls_dir:
            import trustme

            ca = trustme.CA()
            cert_chain = os.path.join(self.tls_dir, "simulator-cert.pem")
            ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(cert_chain)
            self.ca_path = os.path.join(self.tls_dir, "simulator-ca.pem")
            ca.cert_pem.write_to_path(self.ca_path)
        context = multiprocessing.get_context("spawn")  # no copy of this process's threads or locks
        self._connection, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end, self.config, cert_chain),
                                        name="fal-simulator", daemon=True)
        self._process.start()
        self.base_url = self._connection.recv()
        return self

    def _ask(self, command: str, argument=None):
        self._connection.send((command, argument))
        return self._connection.recv()

    def completed_walls(self, request_ids: list[str]) -> dict[str, float]:
        return self._ask("completed", list(request_ids))

    def status_polls(self) -> int:
        return self._ask("polls")

    @property
    def pid(self) -> int:
        return self._process.pid

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._ask("stop")
        finally:
            self._process.join(timeout=30)
            if self._process.is_alive():
                self._process.kill()


@contextlib.contextmanager
def zero_time_simulator(*, in_process: bool, tls_dir: str | None):
    """A simulator with queue 0 s and run 0 s: yields (simulator, CA path for HTTPS or None).

    In a process of its own unless `in_process`; HTTPS with a fresh CA in `tls_dir` if given.
    """
    if not in_process:
        with SimulatorProcess(queue_seconds=0, run_seconds=0, tls_dir=tls_dir) as sim:
            yield sim, sim.ca_path
        return
    from _common import tls_context

    from fal.simulator import Simulator, SimulatorConfig

    context = ca_path = None
    if tls_dir:
        context, ca_path = tls_context(tls_dir)
    with Simulator(SimulatorConfig(queue_seconds=0, run_seconds=0, ssl_context=context)) as sim:
        yield sim, ca_path
