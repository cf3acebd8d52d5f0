"""Strict readers for settings that come from the environment.

Every reader takes the variable name and an embedded default. A value that cannot be
parsed stops start-up with a message naming the variable, instead of a surprise later.
`NAME_FILE` (a path) may replace `NAME` for secrets kept in files (Docker/K8s secrets).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingError(ImproperlyConfigured):
    """A setting from the environment has a value we cannot use."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"Environment variable {name}: {problem}")
        self.name = name


def _raw(name: str) -> str | None:
    """The variable's text, from NAME or from the file NAME_FILE points to."""
    value = os.environ.get(name)
    file_path = os.environ.get(f"{name}_FILE")
    if value is not None and file_path:
        raise SettingError(name, f"set either {name} or {name}_FILE, not both.")
    if file_path:
        try:
            with open(file_path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise SettingError(name, f"cannot read {name}_FILE ({exc.strerror}).") from None
    return value


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingError(name, f"expected true or false, got {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise SettingError(name, f"expected a whole number, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise SettingError(name, f"must be at least {minimum}, got {number}.")
    if maximum is not None and number > maximum:
        raise SettingError(name, f"must be at most {maximum}, got {number}.")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise SettingError(name, f"expected a number, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise SettingError(name, f"must be at least {minimum}, got {number}.")
    return number


def env_list(name: str, default: Iterable[str] = ()) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: Iterable[str]) -> str:
    allowed = list(choices)
    value = env_str(name, default).lower()
    if value not in allowed:
        raise SettingError(name, f"expected one of {', '.join(allowed)}, got {value!r}.")
    return value


def env_url(name: str, default: str) -> str:
    """An http(s) URL without a trailing slash."""
    value = env_str(name, default).rstrip("/")
    if not value:
        return value
    if not value.startswith(("http://", "https://")):
        raise SettingError(name, f"expected an http:// or https:// URL, got {value!r}.")
    host = value.split("://", 1)[1].split("/", 1)[0]
    if not host:
        raise SettingError(name, f"the URL {value!r} has no host.")
    return value
