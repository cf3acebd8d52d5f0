"""Errors a caller can act on. Each says whether trying the same call again may help.

Messages are plain language and never contain the fal key: text from upstream passes
through the client's redaction before it lands here.
"""

from __future__ import annotations

from dataclasses import dataclass


class FalError(Exception):
    """Base class: something went wrong talking to fal (or a fal-compatible proxy)."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_type = error_type
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code}, error_type={self.error_type!r})"


class AuthenticationError(FalError):
    """401/403: the key is missing, wrong, or not allowed to use this model."""


class PaymentRequiredError(FalError):
    """402: the account is out of credit or over its quota."""


@dataclass(frozen=True)
class FieldError:
    loc: tuple[str | int, ...]
    message: str
    type: str = "value_error"

    @property
    def field(self) -> str:
        """The input field the message is about ("" when it is about the whole request)."""
        parts = [str(part) for part in self.loc if part != "body"]
        return parts[0] if parts else ""


class ValidationError(FalError):
    """422: the model rejected the input. `field_errors` says which field and why."""

    def __init__(self, message: str, *, field_errors: tuple[FieldError, ...] = (), **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.field_errors = field_errors

    def messages_by_field(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for error in self.field_errors:
            grouped.setdefault(error.field, []).append(error.message)
        return grouped


class NotFoundError(FalError):
    """404/410: unknown request or model, or a result/file that has expired."""

    @property
    def gone(self) -> bool:
        return self.status_code == 410


class RateLimitError(FalError):
    """429: too many requests. `retry_after` is the wait the server asked for, in seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamError(FalError):
    """5xx: fal or the model failed. 502/503/504 are usually passing; 500 usually is not."""

    def __init__(self, message: str, *, timeout_type: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.timeout_type = timeout_type

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        # A 504 caused by the caller's own start deadline would fail the same way again.
        return self.status_code in (502, 503, 504) and self.timeout_type != "user"


class RequestError(FalError):
    """Another 4xx answer (bad request, cancelled request, conflict…)."""


class NetworkError(FalError):
    """The service could not be reached, or the connection broke or timed out."""

    retryable = True


class SubmitOutcomeUnknown(NetworkError):
    """A submit was sent but no answer came back: fal may or may not have accepted it.

    Not retryable on purpose: a blind resubmit could run (and bill) the job twice.
    """

    retryable = False


class ProtocolError(FalError):
    """The service answered something that does not follow fal's queue protocol."""


class UnsafeURLError(ProtocolError):
    """A result points somewhere Atelier will not go: not http(s), or a private address."""
