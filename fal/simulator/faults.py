"""Fault switches: per-request misbehaviour chosen by the caller.

A request picks its faults in one of two ways (both may be combined):

* the submit header ``X-Simulator-Faults: fail, rate_limit=2``
* a token in the prompt ``[sim: fail, rate_limit=2]`` (removed before drawing/echoing)

The switches stay attached to the request for its whole life.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

HEADER = "X-Simulator-Faults"

# A prompt token; non-greedy so two tokens in one prompt are both found.
_PROMPT_TOKEN = re.compile(r"\[sim:([^\]]*)\]", re.IGNORECASE)

DEFAULT_FAIL_TYPE = "internal_server_error"

# Plain messages for the error types a failing request may report.
FAIL_MESSAGES: dict[str, str] = {
    "internal_server_error": "Internal server error while generating (simulated failure).",
    "generation_timeout": "Generation timed out (simulated failure).",
    "content_policy_violation": "The content was flagged by a content checker (simulated failure).",
    "downstream_service_error": "A downstream service returned an error (simulated failure).",
    "downstream_service_unavailable": "A downstream service is unavailable (simulated failure).",
}

# name -> kind of value; a trailing "?" means the value may be left out
_SWITCHES: dict[str, str] = {
    "fail": "word?",
    "rate_limit": "count?",
    "retry_after": "number",
    "server_error": "count?",
    "slow_start": "number",
    "payment": "flag",
    "nsfw": "flag",
    "truncate": "flag",
    "expire": "number",
    "queue": "number",
    "run": "number",
    "big_mb": "number",
    "slow_download": "number",
}

KNOWN_SWITCHES: tuple[str, ...] = tuple(_SWITCHES)


class FaultError(ValueError):
    """A fault spec that cannot be understood; the message names the culprit."""


@dataclass(frozen=True)
class Faults:
    fail: str | None = None  # error_type to fail with, None = succeed
    rate_limit: int = 0  # first N status polls answer 429
    retry_after: float = 1.0  # Retry-After of those 429s
    server_error: int = 0  # next N status polls answer 503
    slow_start: float = 0.0  # delay of the submit response
    payment: bool = False  # submit answers 402
    nsfw: bool = False  # has_nsfw_concepts all true
    truncate: bool = False  # downloads stop halfway
    expire: float | None = None  # result + files expire S after completion
    queue: float | None = None  # queue time override
    run: float | None = None  # run time override
    big_mb: float | None = None  # pad video files to this many MiB
    slow_download: float = 0.0  # each file body takes this many seconds to send

    def merged(self, other: Faults) -> Faults:
        """``other``'s switches win where it sets them."""
        changes = {
            name: getattr(other, name)
            for name in self.__dataclass_fields__
            if getattr(other, name) != getattr(Faults(), name)
        }
        return replace(self, **changes)


def parse_faults(spec: str) -> Faults:
    """Parse ``"fail, rate_limit=2, queue=0"``; raise FaultError on unknown names or bad values."""
    values: dict[str, object] = {}
    for raw in re.split(r"[,;]", spec):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = (part.strip() for part in item.partition("="))
        name = name.lower()
        kind = _SWITCHES.get(name)
        if kind is None:
            known = ", ".join(KNOWN_SWITCHES)
            raise FaultError(f"Unknown simulator fault '{name}'. Known faults: {known}.")
        if not sep:
            if kind == "flag" or kind.endswith("?"):
                values[name] = _default(name)
                continue
            raise FaultError(f"Simulator fault '{name}' needs a value, e.g. {name}=1.")
        if kind == "flag":
            raise FaultError(f"Simulator fault '{name}' takes no value.")
        values[name] = _convert(name, kind.rstrip("?"), value)
    return Faults(**values)  # type: ignore[arg-type]


def split_prompt(prompt: str) -> tuple[str, str]:
    """Return (prompt without ``[sim: …]`` tokens, the tokens' joined specs)."""
    specs = [match.group(1) for match in _PROMPT_TOKEN.finditer(prompt)]
    if not specs:
        return prompt, ""
    cleaned = " ".join(_PROMPT_TOKEN.sub(" ", prompt).split())
    return cleaned, ",".join(specs)


def _default(name: str) -> object:
    if name == "fail":
        return DEFAULT_FAIL_TYPE
    if name in ("rate_limit", "server_error"):
        return 2
    return True


def _convert(name: str, kind: str, value: str) -> object:
    if kind == "word":
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise FaultError(
                f"Simulator fault '{name}' wants an error type like internal_server_error, not '{value}'."
            )
        return value
    try:
        number = float(value) if kind == "number" else int(value)
    except ValueError:
        wanted = "a number" if kind == "number" else "a whole number"
        raise FaultError(f"Simulator fault '{name}' wants {wanted}, not '{value}'.") from None
    if number < 0 or not math.isfinite(number):
        raise FaultError(f"Simulator fault '{name}' must be a finite, non-negative number.")
    return number
