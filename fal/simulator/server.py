"""The HTTP server: fal's queue protocol over http.server, plus CDN-like file downloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import selectors
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import faults as fault_switches
from .config import SimulatorConfig
from .faults import FaultError, Faults
from .jobs import CANCELLED_TYPE, Job, JobStore
from .models import MODELS, app_prefix, spec_for
from .outputs import plan_files, result_json
from .validation import validate_input
from .video import iter_video
from .webhooks import WebhookSender

PROXY_QUEUE_BASE = "https://queue.fal.run"
MAX_BODY_BYTES = 64 * 1024 * 1024  # data-URI inputs can be large, but not unbounded
MAX_LOG_ENTRIES = 100_000
PAYMENT_DETAIL = (
    "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
)


@dataclass(frozen=True)
class SimulatorHit:
    """One handled request. ``auth_scheme`` is the scheme word only, never the key."""

    method: str
    path: str
    status: int
    auth_scheme: str | None


class Simulator:
    """A fal-compatible queue server. ``start()`` serves in a daemon thread; ``stop()`` ends it."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.jobs = JobStore()
        # Requests submitted with ?fal_webhook= are reported there on completion (see .webhooks).
        self.webhooks = WebhookSender(self._webhook_body)
        self.log: list[SimulatorHit] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Simulator:
        server = self._bind()
        self._thread = threading.Thread(target=server.serve_until_stopped, name="fal-simulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, on_ready: Callable[[Simulator], None] | None = None) -> None:
        """Serve in this thread until interrupted (KeyboardInterrupt propagates).

        ``on_ready`` runs once the port is bound, e.g. to print ``base_url``.
        """
        server = self._bind()
        try:
            if on_ready is not None:
                on_ready(self)
            server.serve_until_stopped()
        finally:
            server.close_connections()
            server.server_close()
            self._server = None

    def stop(self) -> None:
        self.webhooks.stop()
        server, thread = self._server, self._thread
        if server is None:
            return
        server.request_stop()
        if thread is not None:
            thread.join(timeout=5)
        server.close_connections()  # idle keep-alive connections would otherwise linger
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        scheme = "https" if self.config.ssl_context else "http"
        host = self.config.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self._server.server_address[1]}"

    def _bind(self) -> _Server:
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self._server = _Server((self.config.host, self.config.port), _Handler, self)
        return self._server

    def _webhook_body(self, job: Job) -> dict[str, Any]:
        """What fal POSTs to a request's webhook once it is done."""
        ids = {"request_id": job.request_id, "gateway_request_id": job.request_id}
        problem = job.error()
        if problem:
            message, error_type = problem
            return {**ids, "status": "ERROR", "error": message,
                    "payload": {"detail": message, "error_type": error_type}}
        output = result_json(
            job.spec, job.files, file_base=f"{self.base_url}/files/{job.request_id}", seed=job.seed,
            prompt=job.prompt, nsfw=job.faults.nsfw, inference_seconds=job.run_seconds,
        )
        return {**ids, "status": "OK", "payload": output}

    def _record(self, hit: SimulatorHit) -> None:
        with self._log_lock:
            self.log.append(hit)
            if len(self.log) > MAX_LOG_ENTRIES:  # a long-running dev server must not grow forever
                del self.log[: MAX_LOG_ENTRIES // 10]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], simulator: Simulator):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = False
        # Writing to this pair wakes the accept loop at once when stopping (no poll interval).
        self._waker_r, self._waker_w = socket.socketpair()
        super().__init__(address, handler)

    def serve_until_stopped(self) -> None:
        """Like serve_forever, but request_stop() ends it at once instead of after a poll interval."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._waker_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self and not self._stopping:
                        self._handle_request_noblock()

    def request_stop(self) -> None:
        self._stopping = True
        try:
            self._waker_w.send(b"x")
        except OSError:  # already closed
            pass

    def server_close(self) -> None:
        super().server_close()
        self._waker_r.close()
        self._waker_w.close()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        context = self.simulator.config.ssl_context
        if context is not None:
            # The handshake runs later in the handler thread, so a slow client cannot block accept().
            sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, truncation tests, TLS probes) are routine, not bugs.
        if self.simulator.config.verbose:
            super().handle_error(request, client_address)


class _Reply(Exception):
    """Raised by route helpers to answer early with a JSON error."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "fal-simulator"
    disable_nagle_algorithm = True  # header and body go out in separate writes
    timeout = 60  # idle keep-alive connections are closed after this
    server: _Server

    # -- plumbing ---------------------------------------------------------------------------
    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def version_string(self) -> str:
        return self.server_version

    @property
    def sim(self) -> Simulator:
        return self.server.simulator

    @property
    def cfg(self) -> SimulatorConfig:
        return self.server.simulator.config

    def log_message(self, format: str, *args: Any) -> None:
        if self.cfg.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        self._status = 0
        self._recorded = False
        url = urlsplit(self.path)
        auth = self.headers.get("Authorization")
        self._hit = (method, url.path, auth.split(None, 1)[0] if auth and auth.strip() else None)
        try:
            body = self._read_body()
            self._route(method, url.path, parse_qs(url.query), body)
        except _Reply as reply:
            self._send_json(reply.status, reply.body, reply.headers)
        except OSError:  # the client hung up or timed out (or stop() closed the socket)
            if self.cfg.verbose:
                traceback.print_exc(file=sys.stderr)
            self.close_connection = True
        except Exception:  # a simulator bug: say so loudly, keep serving
            traceback.print_exc(file=sys.stderr)
            if not self._status:
                self._send_json(500, {"detail": "Simulator bug: " + traceback.format_exc(limit=1).strip()})
            self.close_connection = True
        finally:
            if not self._recorded:  # no response went out
                self._record_hit()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise _Reply(411, {"detail": "Send a Content-Length; chunked bodies are not supported"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise _Reply(400, {"detail": "Invalid Content-Length"}) from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would corrupt the next request
            raise _Reply(413, {"detail": f"Request body larger than {MAX_BODY_BYTES} bytes"})
        return self.rfile.read(length) if length > 0 else b""

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        # Logged before the client can see the response, so a test reading sim.log never races it.
        self._record_hit()
        super().send_response(code, message)

    def _record_hit(self) -> None:
        if getattr(self, "_hit", None) and not self._recorded:
            self._recorded = True
            method, path, scheme = self._hit
            self.sim._record(SimulatorHit(method, path, self._status, scheme))

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _own_base(self) -> str:
        # Follow the Host the client used, so URLs work when bound to 0.0.0.0 or behind a port map.
        host = self.headers.get("Host")
        if not host:
            return self.sim.base_url
        return f"{'https' if self.cfg.ssl_context else 'http'}://{host}"

    def _queue_base(self) -> str:
        return PROXY_QUEUE_BASE if self.cfg.proxy_mode else self._own_base()

    # -- routing ----------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        segments = [unquote(part) for part in path.split("/") if part]
        if segments[:1] == ["files"]:
            if method not in ("GET", "HEAD"):
                raise _Reply(405, {"detail": "Method Not Allowed"})
            return self._download(segments[1:])
        if not segments:
            if method not in ("GET", "HEAD"):
                raise _Reply(405, {"detail": "Method Not Allowed"})
            return self._send_json(200, {"simulator": "fal", "proxy_mode": self.cfg.proxy_mode,
                                         "models": sorted(MODELS)})
        if "requests" in segments[2:]:
            where = segments.index("requests", 2)
            prefix, rest = "/".join(segments[:where]), segments[where + 1:]
            if len(rest) == 1 and method == "GET":
                return self._result(prefix, rest[0])
            if len(rest) == 2 and rest[1] == "status" and method == "GET":
                return self._status_poll(prefix, rest[0], query)
            if len(rest) == 2 and rest[1] == "cancel" and method == "PUT":
                return self._cancel(prefix, rest[0])
            if rest[1:] == ["status", "stream"]:
                raise _Reply(404, {"detail": "The simulator does not stream status; poll /status instead"})
            if len(rest) in (1, 2):
                raise _Reply(405, {"detail": "Method Not Allowed"})
            raise _Reply(404, {"detail": "Not Found"})
        if method == "POST" and len(segments) >= 2:
            return self._submit("/".join(segments), query, body)
        raise _Reply(405 if len(segments) >= 2 else 404,
                     {"detail": "Method Not Allowed" if len(segments) >= 2 else "Not Found"})

    def _authorize(self) -> None:
        wanted = "bearer" if self.cfg.proxy_mode else "key"
        scheme, _, key = (self.headers.get("Authorization") or "").strip().partition(" ")
        key = key.strip()
        ok = scheme.lower() == wanted and bool(key)
        if ok and self.cfg.key is not None:
            ok = hmac.compare_digest(key.encode(), self.cfg.key.encode())
        if not ok:
            raise _Reply(401, {"detail": "Unauthorized"})

    def _job(self, prefix: str, request_id: str, not_found: dict[str, Any]) -> Job:
        job = self.sim.jobs.get(request_id)
        if job is None or job.prefix != prefix or job.result_expired(time.monotonic()):
            raise _Reply(404, not_found)
        return job

    # -- queue endpoints --------------------------------------------------------------------
    def _submit(self, model_id: str, query: dict[str, list[str]], raw: bytes) -> None:
        self._authorize()
        webhook = (query.get("fal_webhook") or [""])[-1]
        if webhook and not webhook.startswith(("http://", "https://")):
            raise _Reply(422, {"detail": "fal_webhook must be an http(s) URL"})
        try:
            faults = fault_switches.parse_faults(self.headers.get(fault_switches.HEADER, ""))
        except FaultError as error:
            raise _Reply(422, {"detail": str(error)}) from None
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError) as error:
            raise _Reply(422, {"detail": f"Request body is not valid JSON: {error}"}) from None
        if not isinstance(body, dict):
            raise _Reply(422, {"detail": "Request body must be a JSON object with the model's input"})

        prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else ""
        prompt, prompt_spec = fault_switches.split_prompt(prompt)
        try:
            faults = faults.merged(fault_switches.parse_faults(prompt_spec))
        except FaultError as error:
            raise _Reply(422, {"detail": str(error)}) from None
        if faults.payment:
            raise _Reply(402, {"detail": PAYMENT_DETAIL})

        spec = spec_for(model_id)
        errors = validate_input(spec, body)
        if errors:
            raise _Reply(422, {"detail": errors})

        job = self._new_job(model_id, spec, body, prompt, faults)
        now = time.monotonic()
        self.sim.jobs.sweep(now)
        self.sim.jobs.add(job)
        if webhook:
            self.sim.webhooks.add(job, webhook)
        if faults.slow_start:
            # The job already exists: a client that times out now cannot know its fate.
            time.sleep(faults.slow_start)
        position = job.queue_position(time.monotonic())
        self._send_json(200, {"status": "IN_QUEUE", **self._urls(job), "queue_position": position},
                        {"x-fal-request-id": job.request_id})

    def _new_job(self, model_id: str, spec: Any, body: dict[str, Any], prompt: str, faults: Faults) -> Job:
        params = {name: value for name, value in body.items() if value is not None}
        request_id = str(uuid.uuid4())
        seed = params.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            # Invented, but stable for the request: derived from its id.
            seed = int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:4], "big") & 0x7FFFFFFF
        steps = params.get("num_inference_steps")
        expire = faults.expire
        return Job(
            request_id=request_id, model_id=model_id, prefix=app_prefix(model_id), spec=spec,
            prompt=prompt, seed=seed, faults=faults,
            files=plan_files(spec, params, faults.big_mb),
            steps=steps if isinstance(steps, int) and not isinstance(steps, bool) else spec.default_steps,
            created_at=time.monotonic(), created_wall=time.time(),
            queue_seconds=self.cfg.queue_seconds if faults.queue is None else faults.queue,
            run_seconds=self.cfg.run_seconds if faults.run is None else faults.run,
            result_ttl=self.cfg.result_ttl_seconds if expire is None else expire,
            file_ttl=self.cfg.file_ttl_seconds if expire is None else expire,
        )

    def _urls(self, job: Job) -> dict[str, str]:
        base = f"{self._queue_base()}/{job.prefix}/requests/{job.request_id}"
        return {"request_id": job.request_id, "response_url": base,
                "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}

    def _status_poll(self, prefix: str, request_id: str, query: dict[str, list[str]]) -> None:
        self._authorize()
        job = self._job(prefix, request_id, {"detail": "Request not found"})
        poll = self.sim.jobs.count_status_poll(job)
        request_header = {"x-fal-request-id": job.request_id}
        if poll <= job.faults.rate_limit:
            retry_after = str(math.ceil(job.faults.retry_after))
            raise _Reply(429, {"detail": "Rate limit exceeded"}, {"Retry-After": retry_after, **request_header})
        if poll <= job.faults.rate_limit + job.faults.server_error:
            raise _Reply(
                503,
                {"detail": "No runner could be scheduled for the request (simulated).",
                 "error_type": "runner_scheduling_failure"},
                {"X-Fal-Error-Type": "runner_scheduling_failure", **request_header},
            )
        want_logs = (query.get("logs") or ["0"])[-1].strip().lower() in ("1", "true", "yes")
        now = time.monotonic()
        phase = job.phase(now)
        body: dict[str, Any] = {"status": phase, **self._urls(job)}
        if phase == "IN_QUEUE":
            body["queue_position"] = job.queue_position(now)
            return self._send_json(202, body, request_header)
        body["logs"] = job.logs(now) if want_logs else None
        if phase == "IN_PROGRESS":
            return self._send_json(202, body, request_header)
        problem = job.error()
        ran = job.completed_at - job.started_at
        body["metrics"] = {"inference_time": round(ran, 3) if ran > 0 else None}
        if problem:
            body["error"], body["error_type"] = problem
        self._send_json(200, body, request_header)

    def _result(self, prefix: str, request_id: str) -> None:
        self._authorize()
        job = self._job(prefix, request_id, {"detail": "Request not found"})
        request_header = {"x-fal-request-id": job.request_id}
        if job.phase(time.monotonic()) != "COMPLETED":
            raise _Reply(400, {"detail": "Request is still in progress"}, request_header)
        problem = job.error()
        if problem:
            message, error_type = problem
            status = 400 if error_type == CANCELLED_TYPE else 500
            raise _Reply(status, {"detail": message, "error_type": error_type},
                         {"X-Fal-Error-Type": error_type, **request_header})
        output = result_json(
            job.spec, job.files, file_base=f"{self._own_base()}/files/{job.request_id}", seed=job.seed,
            prompt=job.prompt, nsfw=job.faults.nsfw, inference_seconds=job.run_seconds,
        )
        self._send_json(200, output, request_header)

    def _cancel(self, prefix: str, request_id: str) -> None:
        self._authorize()
        job = self._job(prefix, request_id, {"status": "NOT_FOUND"})
        if not self.sim.jobs.cancel(job, time.monotonic()):
            raise _Reply(400, {"status": "ALREADY_COMPLETED"})
        self._send_json(202, {"status": "CANCELLATION_REQUESTED"}, {"x-fal-request-id": job.request_id})

    # -- files ------------------------------------------------------------------------------
    def _download(self, parts: list[str]) -> None:
        not_found = _Reply(404, {"detail": "File not found"})
        if len(parts) != 2:
            raise not_found
        job = self.sim.jobs.get(parts[0])
        now = time.monotonic()
        if job is None or job.phase(now) != "COMPLETED" or job.error() is not None:
            raise not_found
        output = job.file(parts[1])
        if output is None:
            raise not_found
        if job.files_expired(now):
            raise _Reply(410, {"detail": "File expired"})

        if output.asset is not None:
            length = output.length or 0
            chunks = None if self.command == "HEAD" else iter_video(
                output.asset, length, length // 2 if job.faults.truncate else None)
        else:
            data = job.image_bytes(output)
            length = len(data)
            chunks = None if self.command == "HEAD" else [data[: length // 2] if job.faults.truncate else data]

        self.send_response(200)
        self.send_header("Content-Type", output.content_type)
        self.send_header("Content-Length", str(length))  # the full length, even when truncating
        self.send_header("Cache-Control", "private, max-age=60")
        if job.faults.truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if chunks is not None and job.faults.slow_download:
            chunks = _paced(chunks, length, job.faults.slow_download)
        for chunk in chunks or ():
            self.wfile.write(chunk)
        if job.faults.truncate:
            self.close_connection = True


def _paced(chunks: Any, length: int, seconds: float) -> Any:
    """The same bytes in at least 20 pieces, spread evenly over ``seconds`` (a slow file host)."""
    piece = max(1, min(1 << 16, length // 20))
    start, sent = time.monotonic(), 0
    for chunk in chunks:
        for offset in range(0, len(chunk), piece):
            pause = start + seconds * sent / max(length, 1) - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            part = chunk[offset:offset + piece]
            yield part
            sent += len(part)
