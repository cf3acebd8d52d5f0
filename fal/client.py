"""A client for fal's queue protocol over httpx (official host or a compatible proxy).

    client = FalClient("https://queue.fal.run", key, auth_scheme="key")
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": "a lighthouse"})
    client.status(handle)            # Queued / InProgress / Completed
    client.result(handle)            # the model's output JSON (raises on a failed request)
    client.cancel(handle)            # "CANCELLATION_REQUESTED", "ALREADY_COMPLETED", ...
    with client.download(url) as f:  # a result file, streamed
        for chunk in f.iter_bytes(): ...

The key is sent only to the configured base URL, never to file hosts, and never appears in
a repr, an exception or a log line.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.utils
import ipaddress
import json
import math
import logging
import random
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

import aiohttp
import httpx

from fal import errors
from fal.app_id import parse_model_id

logger = logging.getLogger("fal")

OFFICIAL_QUEUE_URL = "https://queue.fal.run"
AUTH_SCHEMES = {"key": "Key", "bearer": "Bearer"}
MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}


# --- Status values ------------------------------------------------------------------------
@dataclass(frozen=True)
class LogLine:
    message: str
    level: str = "INFO"
    timestamp: str = ""


@dataclass(frozen=True)
class Queued:
    position: int | None


@dataclass(frozen=True)
class InProgress:
    logs: tuple[LogLine, ...] = ()


@dataclass(frozen=True)
class Completed:
    logs: tuple[LogLine, ...] = ()
    inference_time: float | None = None
    error: str | None = None
    error_type: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.error or self.error_type)


Status = Queued | InProgress | Completed


@dataclass(frozen=True)
class RequestHandle:
    """Everything needed to follow a submitted request (store model_id + request_id)."""

    model_id: str
    request_id: str
    status_url: str
    response_url: str
    cancel_url: str
    queue_position: int | None = None


# --- Retries --------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter. A 429 waits what Retry-After asks for."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5  # the delay is multiplied by a random factor in [1-jitter, 1+jitter]

    def backoff(self, attempt: int, rng: random.Random) -> float:
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return min(self.max_delay, delay * rng.uniform(1 - self.jitter, 1 + self.jitter))


@dataclass(frozen=True)
class _Operation:
    """What may be retried for one kind of call."""

    name: str
    retry_statuses: frozenset[int]
    # A 5xx from the model itself (it carries fal's request id) is the model's answer.
    retry_only_ingress_5xx: bool = False
    # After a submit was sent, a broken connection leaves its fate unknown.
    may_resend_after_send: bool = True


_SUBMIT = _Operation("submit", frozenset({429, 502, 503}), retry_only_ingress_5xx=True, may_resend_after_send=False)
_STATUS = _Operation("status", frozenset({408, 429, 500, 502, 503, 504}))
_RESULT = _Operation("result", frozenset({408, 429, 502, 503, 504}), retry_only_ingress_5xx=True)
_CANCEL = _Operation("cancel", frozenset({408, 429, 502, 503, 504}))

# Errors raised before a single byte of the request left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class FalClient:
    def __init__(
        self,
        base_url: str = OFFICIAL_QUEUE_URL,
        key: str = "",
        *,
        auth_scheme: str = "key",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_retry_after: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        trusted_file_hosts: frozenset[str] = frozenset(),
        resolve: Callable[[str], set[str]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if auth_scheme not in AUTH_SCHEMES:
            raise ValueError(f"auth_scheme must be one of {', '.join(AUTH_SCHEMES)}")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        self.base_url = base_url.rstrip("/")
        self.auth_scheme = auth_scheme
        self.retry = retry or RetryPolicy()
        # A longer Retry-After than this is raised to the caller, who can reschedule
        # instead of holding a worker thread.
        self.max_retry_after = max_retry_after
        self._key = key
        # Hosts allowed to serve result files even on a private address (besides the base host).
        self.trusted_file_hosts = trusted_file_hosts
        self._resolve = resolve or _resolve_host
        self._sleep = sleep
        self._rng = rng or random.Random()
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        timeouts = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        # Two pools: the queue API gets the key, file hosts (the CDN) never do.
        self._api = httpx.Client(timeout=timeouts, limits=limits, transport=transport,
                                 headers={"User-Agent": "atelier-fal/1"})
        # Redirects are followed by hand in download(), each hop checked like the first.
        self._files = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0), limits=limits,
                                   transport=transport, follow_redirects=False,
                                   headers={"User-Agent": "atelier-fal/1"})

    def __repr__(self) -> str:
        return f"FalClient(base_url={self.base_url!r}, auth_scheme={self.auth_scheme!r}, key={'set' if self._key else 'unset'})"

    def close(self) -> None:
        self._api.close()
        self._files.close()

    def __enter__(self) -> FalClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- The four queue operations ------------------------------------------------------
    def submit(self, model_id: str, arguments: dict[str, Any], *, webhook_url: str | None = None) -> RequestHandle:
        app = parse_model_id(model_id)
        url = f"{self.base_url}/{app.endpoint}"
        if webhook_url:
            url += "?fal_webhook=" + quote(webhook_url, safe="")
        body = self._json(self._call(_SUBMIT, "POST", url, json=arguments))
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise errors.ProtocolError("The service accepted the request but sent no request id.")
        fallback = self.handle_for(model_id, request_id)
        position = body.get("queue_position")
        logger.info("fal submit accepted: model=%s request_id=%s", model_id, request_id)
        return RequestHandle(
            model_id=model_id,
            request_id=request_id,
            status_url=self._follow(body.get("status_url"), fallback.status_url),
            response_url=self._follow(body.get("response_url"), fallback.response_url),
            cancel_url=self._follow(body.get("cancel_url"), fallback.cancel_url),
            queue_position=position if isinstance(position, int) and not isinstance(position, bool) else None,
        )

    def handle_for(self, model_id: str, request_id: str) -> RequestHandle:
        """Rebuild a handle from what we store (after a restart, for instance)."""
        prefix = parse_model_id(model_id).request_prefix
        base = f"{self.base_url}/{prefix}/requests/{quote(request_id, safe='')}"
        return RequestHandle(model_id, request_id, f"{base}/status", base, f"{base}/cancel")

    def status(self, handle: RequestHandle, *, with_logs: bool = True) -> Status:
        response = self._call(_STATUS, "GET", handle.status_url, params={"logs": "1" if with_logs else "0"})
        return parse_status(self._json(response))

    # --- Status from an event loop (the tracker watches many jobs from one thread) ----------
    def open_async(self, *, max_connections: int = 32) -> aiohttp.ClientSession:
        """A session for `astatus`, owned (and closed) by the caller's event loop.

        aiohttp rather than httpx.AsyncClient: measured against the simulator, a status request
        costs 0.23 ms of CPU with aiohttp and 2.1 ms with httpx's async client (0.6 ms sync).
        """
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections),
            timeout=aiohttp.ClientTimeout(total=self._api.timeout.read, connect=self._api.timeout.connect),
            headers={"User-Agent": "atelier-fal/1"}, auto_decompress=True, raise_for_status=False)

    async def astatus(self, session: aiohttp.ClientSession, handle: RequestHandle, *,
                      with_logs: bool = True) -> Status:
        """status() in one attempt, for an event loop: the caller schedules the next look, so a
        failure is raised at once (with Retry-After on a 429) instead of sleeping here."""
        return parse_status(await self._aget(session, handle.status_url, {"logs": "1" if with_logs else "0"}))

    async def aresult(self, session: aiohttp.ClientSession, handle: RequestHandle) -> dict[str, Any]:
        """result() in one attempt, for an event loop; any failure is raised at once."""
        body = await self._aget(session, handle.response_url)
        if not isinstance(body, dict):
            raise errors.ProtocolError("The service sent a result that is not a JSON object.")
        return body

    async def _aget(self, session: aiohttp.ClientSession, url: str, params: dict[str, str] | None = None) -> Any:
        try:
            async with session.get(url, params=params, headers=self._headers(), allow_redirects=False) as answer:
                body = await answer.read()
                status, headers = answer.status, answer.headers
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise errors.NetworkError(f"Could not reach the service ({type(exc).__name__}).") from None
        if status >= 400:
            raise self._error_for(httpx.Response(status, headers=list(headers.items()), content=body))
        return _loads(body, status)

    def result(self, handle: RequestHandle) -> dict[str, Any]:
        """The model's output. A request that failed upstream raises its error here."""
        body = self._json(self._call(_RESULT, "GET", handle.response_url))
        if not isinstance(body, dict):
            raise errors.ProtocolError("The service sent a result that is not a JSON object.")
        return body

    def cancel(self, handle: RequestHandle) -> str:
        """Ask fal to cancel. Returns the status word fal answered with."""
        try:
            response = self._call(_CANCEL, "PUT", handle.cancel_url)
        except (errors.NotFoundError, errors.RequestError) as exc:
            # 400 ALREADY_COMPLETED and 404 NOT_FOUND are answers, not failures.
            if exc.error_type in ("ALREADY_COMPLETED", "NOT_FOUND"):
                return exc.error_type
            raise
        try:
            word = response.json().get("status")
        except (ValueError, AttributeError):
            word = None
        return word if isinstance(word, str) and word else "CANCELLATION_REQUESTED"

    # --- Result files -------------------------------------------------------------------
    @contextlib.contextmanager
    def download(self, url: str) -> Iterator[FileDownload]:
        """Stream one result file. Sends no credentials. Data URIs are decoded in place.

        Only http(s) addresses on the public internet are fetched (and every redirect is
        checked again), so a hostile result cannot make us read internal services; the
        configured base host (a proxy, or the simulator on this machine) is trusted.
        """
        if url.startswith("data:"):
            yield _data_uri_download(url)
            return
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                self._check_file_url(url)
                with self._files.stream("GET", url) as response:
                    if response.is_redirect and response.headers.get("location"):
                        url = str(response.url.join(response.headers["location"]))
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise self._error_for(response)
                    yield FileDownload(response)
                    return
            raise errors.ProtocolError("A result file redirected too many times.")
        except httpx.TransportError as exc:
            raise errors.NetworkError(f"The file download broke off ({type(exc).__name__}).") from None

    def _check_file_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            raise errors.UnsafeURLError("A result file has an address that is not a valid web URL.") from None
        if parts.scheme not in ("http", "https") or not host:
            raise errors.UnsafeURLError("A result file has an address that is not a web URL.")
        base = urlsplit(self.base_url)
        # The base host is trusted on its own port only: not every service on that machine.
        if (host, port or DEFAULT_PORTS[parts.scheme]) == (base.hostname, base.port or DEFAULT_PORTS[base.scheme]):
            return
        if host in self.trusted_file_hosts:
            return
        try:
            addresses = self._resolve(parts.hostname)
        except (OSError, UnicodeError):
            raise errors.NetworkError(f"The file host {parts.hostname} could not be found.") from None
        for address in addresses:
            if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
                raise errors.UnsafeURLError(
                    "The service sent a file address on a private network; Atelier does not fetch those.")

    # --- Plumbing -----------------------------------------------------------------------
    def _follow(self, returned: Any, fallback: str) -> str:
        """A URL from the service, moved onto our base; never a foreign host."""
        if not isinstance(returned, str) or not returned:
            return fallback
        if returned.startswith(OFFICIAL_QUEUE_URL + "/"):
            returned = self.base_url + returned[len(OFFICIAL_QUEUE_URL):]
        # Following a URL on another host would hand our key to that host.
        return returned if returned.startswith(self.base_url + "/") else fallback

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"{AUTH_SCHEMES[self.auth_scheme]} {self._key}"}

    def _call(self, op: _Operation, method: str, url: str, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._api.request(method, url, headers=self._headers(), **kwargs)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                if sent and not op.may_resend_after_send:
                    raise errors.SubmitOutcomeUnknown(
                        "The request was sent but no answer came back, so it may or may not have "
                        f"been accepted ({type(exc).__name__})."
                    ) from None
                error: errors.FalError = errors.NetworkError(
                    f"Could not reach the service ({type(exc).__name__}).")
                if attempt >= self.retry.max_attempts:
                    raise error from None
                self._wait(op, attempt, None, error)
                continue
            if response.status_code < 400:
                return response
            error = self._error_for(response)
            if not self._should_retry(op, response, error) or attempt >= self.retry.max_attempts:
                raise error
            self._wait(op, attempt, response, error)

    def _should_retry(self, op: _Operation, response: httpx.Response, error: errors.FalError) -> bool:
        code = response.status_code
        if code not in op.retry_statuses:
            return False
        if isinstance(error, errors.UpstreamError) and error.timeout_type == "user":
            return False
        if isinstance(error, errors.RateLimitError) and (error.retry_after or 0) > self.max_retry_after:
            return False
        if code >= 500 and op.retry_only_ingress_5xx and "x-fal-request-id" in response.headers:
            return False
        return True

    def _wait(self, op: _Operation, attempt: int, response: httpx.Response | None, error: errors.FalError) -> None:
        delay = self.retry.backoff(attempt, self._rng)
        if isinstance(error, errors.RateLimitError) and error.retry_after is not None:
            delay = error.retry_after
        logger.warning("fal %s: %s; retry %d in %.1fs", op.name, error.message, attempt, delay)
        self._sleep(delay)

    def _error_for(self, response: httpx.Response) -> errors.FalError:
        return error_from_response(response, redact=self._redact)

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "[redacted]") if self._key else text

    def _json(self, response: httpx.Response) -> Any:
        return _loads(response.content, response.status_code)


def _loads(content: bytes, status_code: int) -> Any:
    try:
        # NaN and Infinity are not JSON a database can store: they become null.
        return json.loads(content, parse_constant=lambda _name: None,
                          parse_float=lambda text: _finite_or_none(float(text)))
    except ValueError:
        raise errors.ProtocolError(
            f"The service answered with something that is not JSON (HTTP {status_code})."
        ) from None


class FileDownload:
    """An open result file: headers known, body read in chunks."""

    def __init__(self, response: httpx.Response | None = None, *, data: bytes | None = None,
                 content_type: str | None = None) -> None:
        self._response = response
        self._data = data
        if response is not None:
            self.content_type = response.headers.get("content-type", "").split(";")[0].strip() or None
            length = response.headers.get("content-length", "")
            self.content_length: int | None = int(length) if length.isdigit() else None
        else:
            self.content_type = content_type
            self.content_length = len(data or b"")

    def iter_bytes(self, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        if self._response is None:
            data = self._data or b""
            for start in range(0, len(data), chunk_size):
                yield data[start:start + chunk_size]
            return
        try:
            yield from self._response.iter_bytes(chunk_size)
        except httpx.TransportError as exc:
            raise errors.NetworkError(f"The file download broke off ({type(exc).__name__}).") from None


def _finite_or_none(number: float) -> float | None:
    return number if math.isfinite(number) else None


def _resolve_host(host: str) -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}


def _data_uri_download(url: str) -> FileDownload:
    header, _, payload = url.partition(",")
    meta = header[5:].split(";")
    try:
        data = base64.b64decode(payload, validate=True) if "base64" in meta[1:] else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise errors.ProtocolError("A result file is an unreadable data URI.") from None
    return FileDownload(data=data, content_type=meta[0] or None)


# --- Parsing answers --------------------------------------------------------------------
def parse_status(body: Any) -> Status:
    if not isinstance(body, dict):
        raise errors.ProtocolError("The service sent a status that is not a JSON object.")
    state = body.get("status")
    if state == "IN_QUEUE":
        position = body.get("queue_position")
        return Queued(position if isinstance(position, int) and not isinstance(position, bool) else None)
    if state == "IN_PROGRESS":
        return InProgress(_logs(body.get("logs")))
    if state == "COMPLETED":
        metrics = body.get("metrics") if isinstance(body.get("metrics"), dict) else {}
        inference = metrics.get("inference_time")
        return Completed(
            logs=_logs(body.get("logs")),
            inference_time=float(inference) if isinstance(inference, (int, float)) and not isinstance(inference, bool) else None,
            error=_short_text(body.get("error")),
            error_type=_short_text(body.get("error_type")),
        )
    raise errors.ProtocolError(f"The service sent an unknown request status {str(state)[:40]!r}.")


def _logs(value: Any) -> tuple[LogLine, ...]:
    if not isinstance(value, list):
        return ()
    lines = []
    for entry in value:
        if isinstance(entry, dict) and isinstance(entry.get("message"), str):
            lines.append(LogLine(entry["message"], str(entry.get("level") or "INFO"), str(entry.get("timestamp") or "")))
    return tuple(lines)


def _short_text(value: Any, limit: int = 2000) -> str | None:
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:limit]


def error_from_response(response: httpx.Response, *, redact: Callable[[str], str] = lambda t: t) -> errors.FalError:
    """The error class for an HTTP error answer, with fal's detail in plain text."""
    code = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    error_type = None
    if isinstance(body, dict):
        error_type = body.get("error_type") or (body.get("status") if code in (400, 404) else None)
    error_type = _short_text(error_type or response.headers.get("x-fal-error-type"), 100)
    message = redact(_detail_text(detail) or _default_message(code))
    common = {"status_code": code, "error_type": error_type, "request_id": response.headers.get("x-fal-request-id")}

    if code == 422:
        return errors.ValidationError(message, field_errors=_field_errors(detail, redact), **common)
    if code in (401, 403):
        return errors.AuthenticationError(message, **common)
    if code == 402:
        return errors.PaymentRequiredError(message, **common)
    if code in (404, 410):
        return errors.NotFoundError(message, **common)
    if code == 429:
        return errors.RateLimitError(message, retry_after=parse_retry_after(response.headers.get("retry-after")), **common)
    if code >= 500:
        return errors.UpstreamError(message, timeout_type=response.headers.get("x-fal-request-timeout-type"), **common)
    return errors.RequestError(message, **common)


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail.strip()[:2000]
    if isinstance(detail, list):
        messages = [str(item.get("msg", "")).strip() for item in detail if isinstance(item, dict)]
        return "; ".join(message for message in messages if message)[:2000]
    return ""


def _field_errors(detail: Any, redact: Callable[[str], str]) -> tuple[errors.FieldError, ...]:
    if isinstance(detail, str) and detail.strip():
        return (errors.FieldError(("body",), redact(detail.strip()[:2000])),)
    if not isinstance(detail, list):
        return ()
    found = []
    for item in detail:
        if not isinstance(item, dict):
            continue
        loc = item.get("loc")
        loc_parts = tuple(part for part in loc if isinstance(part, (str, int))) if isinstance(loc, list) else ("body",)
        found.append(errors.FieldError(loc_parts or ("body",), redact(str(item.get("msg", "Invalid value"))[:2000]),
                                       str(item.get("type") or "value_error")))
    return tuple(found)


def _default_message(code: int) -> str:
    return {
        400: "The service could not use this request.",
        401: "The service did not accept the API key.",
        403: "The API key is not allowed to use this model.",
        402: "The account is out of credit.",
        404: "The service does not know this request, or its result has expired.",
        410: "This result has expired.",
        422: "The service rejected the input.",
        429: "Too many requests at once.",
    }.get(code, f"The service failed (HTTP {code}).")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())
