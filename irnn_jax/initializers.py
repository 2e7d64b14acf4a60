"""Recurrent and input weight initialisers with JAX's ``init(key, shape, dtype)`` contract.

Every function here returns an initialiser usable verbatim as a Flax ``kernel_init`` or
``recurrent_kernel_init``. Recurrent matrices follow the row-vector convention of
``irnn_jax.recurrence`` (``h @ w_hh``), so a paper's column-form ``W`` is ``w_hh.T``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from irnn_jax import checks

Initializer = Callable[..., jax.Array]


def _square_shape(shape: Sequence[int], name: str) -> int:
    shape = tuple(shape)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{name} needs a square 2-D shape (n, n), got shape={shape}")
    return shape[0]


def identity(gain: float = 1.0) -> Initializer:
    """Initialiser of ``gain * I`` for square matrices (the IRNN recurrent weights).

    Args:
      gain: the scalar multiplying the identity; 1.0 for IRNN, 0.01 for the paper's "iRNN".

    Returns:
      ``init(key, shape, dtype=float32)``; ``key`` is unused, shapes must be ``(n, n)``.
    """
    gain = checks.finite_number(gain, "gain")

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        del key
        n = _square_shape(shape, "identity")
        return gain * jnp.eye(n, dtype=dtype)

    return init


def scaled_identity(scale: float) -> Initializer:
    """Initialiser of ``scale * I``: :func:`identity` under the name the papers use (0.01 I)."""
    return identity(gain=scale)


def gaussian(std: float) -> Initializer:
    """Initialiser drawing i.i.d. entries from ``N(0, std^2)``; the paper uses ``std=0.001``."""
    std = checks.finite_number(std, "std", minimum=0.0)
    return jax.nn.initializers.normal(stddev=std)


def zeros() -> Initializer:
    """Initialiser of all zeros (biases)."""
    return jax.nn.initializers.zeros


def orthogonal(scale: float = 1.0) -> Initializer:
    """Initialiser of ``scale * Q`` with ``Q`` a uniformly random orthogonal matrix."""
    return jax.nn.initializers.orthogonal(scale=checks.finite_number(scale, "scale"))


def glorot_uniform() -> Initializer:
    """Glorot/Xavier uniform: ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``."""
    return jax.nn.initializers.glorot_uniform()


def glorot_normal() -> Initializer:
    """Glorot/Xavier normal: truncated normal with variance ``2 / (fan_in + fan_out)``."""
    return jax.nn.initializers.glorot_normal()


def he_uniform() -> Initializer:
    """He/Kaiming uniform: ``U(-a, a)`` with ``a = sqrt(6 / fan_in)``."""
    return jax.nn.initializers.he_uniform()


def he_normal() -> Initializer:
    """He/Kaiming normal: truncated normal with variance ``2 / fan_in``."""
    return jax.nn.initializers.he_normal()


def lecun_normal() -> Initializer:
    """LeCun normal (Flax's default kernel initialiser): variance ``1 / fan_in``."""
    return jax.nn.initializers.lecun_normal()


_REGISTRY: dict[str, Callable[..., Initializer]] = {
    "identity": identity,
    "scaled_identity": scaled_identity,
    "gaussian": gaussian,
    "normal": gaussian,
    "zeros": zeros,
    "orthogonal": orthogonal,
    "glorot_uniform": glorot_uniform,
    "xavier_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_normal": glorot_normal,
    "he_uniform": he_uniform,
    "kaiming_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_normal": he_normal,
    "lecun_normal": lecun_normal,
}


def names() -> list[str]:
    """The initialiser names :func:`get` accepts, sorted."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs: Any) -> Initializer:
    """Resolve an initialiser by name, e.g. ``get("identity", gain=1.0)`` or ``get("gaussian", std=1e-3)``.

    Raises:
      ValueError: for an unknown name (the message lists the known ones).
      TypeError: for keyword arguments the named initialiser does not take.
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown initializer {name!r}; known initializers: {', '.join(names())}")
    factory = _REGISTRY[name]
    signature = inspect.signature(factory)
    try:
        signature.bind(**kwargs)
    except TypeError:
        raise TypeError(
            f"initializer {name!r} takes arguments {list(signature.parameters) or 'none'}, got {kwargs}"
        ) from None
    return factory(**kwargs)
