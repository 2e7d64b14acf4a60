"""Argument checks shared by the library: each raises one clear error naming the value."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any


def positive_int(value: Any, name: str) -> int:
    """Return ``value`` if it is an int >= 1, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {name}={value!r}")
    return value


def non_negative_int(value: Any, name: str) -> int:
    """Return ``value`` if it is an int >= 0, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {name}={value!r}")
    return value


def finite_number(value: Any, name: str, *, minimum: float | None = None) -> float:
    """Return ``value`` as a float if it is a finite real number (>= ``minimum``), else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {name}={value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {name}={value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={value!r}")
    return float(value)


def one_of(value: Any, allowed: Sequence[str], name: str) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise listing the allowed values."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    return value


@contextlib.contextmanager
def about(field: str) -> Iterator[None]:
    """Prefix the message of a ``ValueError`` raised inside with the config ``field`` it concerns.

    For checks that name a kind of thing (``unknown initializer 'x'``) where several fields take
    one (``model.recurrent_init``, ``model.input_init``, ...).

    Args:
      field: the dotted config field, such as ``'model.recurrent_init.name'``.

    Yields:
      Nothing; the ``with`` body runs unchanged.

    Raises:
      ValueError: of the type raised inside, its message ``'<field>: <message>'``.
    """
    try:
        yield
    except ValueError as error:
        raise type(error)(f"{field}: {error}") from None
