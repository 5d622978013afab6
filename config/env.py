"""The one helper through which settings read the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _to_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def _to_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


_CASTS: dict[type | str, Callable[[str], Any]] = {bool: _to_bool, int: int, float: float, str: str, list: _to_list}


def env(name: str, default: Any = None, *, cast: type = str, required: bool = False) -> Any:
    """Read ``name`` from the environment, cast it, or return ``default``.

    ``required=True`` fails fast (at import of the settings) when the value is missing.
    """
    raw = os.environ.get(name)
    if raw is None or (raw == "" and cast is not str):
        if required:
            raise ImproperlyConfigured(f"The environment variable {name} is required in this mode.")
        return default
    try:
        return _CASTS[cast](raw)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"The environment variable {name}={raw!r} is not a valid {cast.__name__}.") from exc
