"""Recurrent and input weight initialisers with JAX's ``init(key, shape, dtype)`` contract.

Every function here returns an initialiser usable verbatim as a Flax ``kernel_init`` or
``recurrent_kernel_init``. Recurrent matrices follow the row-vector convention of
``irnn_jax.core.recurrence`` (``h @ w_hh``), so a paper's column-form ``W`` is ``w_hh.T``.

The "sp-RNN" baseline of Dou & Principe (2023) is not here: we could not identify it offline.
:func:`np_rnn` (Talathi & Vartak 2015) is the closest published initialiser and stands in for it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from irnn_jax.core import checks, registry

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
      ``init(key, shape, dtype=float32)`` returning ``gain * jnp.eye(n, dtype=dtype)``; ``key``
      is unused and ``shape`` must be square, ``(n, n)`` (else ``init`` raises ``ValueError``).

    Raises:
      TypeError: if ``gain`` is not a real number.
      ValueError: if ``gain`` is not finite.
    """
    gain = checks.finite_number(gain, "gain")

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        del key
        n = _square_shape(shape, "identity")
        return gain * jnp.eye(n, dtype=dtype)

    return init


def scaled_identity(scale: float = 0.01) -> Initializer:
    """Initialiser of ``scale * I``: :func:`identity` under the name the papers use (0.01 I).

    Args:
      scale: the scalar multiplying the identity.

    Returns:
      ``init(key, shape, dtype=float32)`` of ``scale * I`` for a square ``(n, n)`` shape, as
      :func:`identity`'s (same errors).
    """
    return identity(gain=scale)


def gaussian(std: float = 1e-3) -> Initializer:
    """Initialiser drawing i.i.d. entries from ``N(0, std^2)``; the paper uses ``std=0.001``.

    Args:
      std: the standard deviation, a finite number >= 0.

    Returns:
      ``init(key, shape, dtype=float32)`` (:func:`jax.nn.initializers.normal`), for any shape.

    Raises:
      TypeError: if ``std`` is not a real number.
      ValueError: if ``std`` is negative or not finite.
    """
    std = checks.finite_number(std, "std", minimum=0.0)
    return jax.nn.initializers.normal(stddev=std)


def uniform(scale: float = 0.1) -> Initializer:
    """Initialiser drawing i.i.d. entries from ``U(-scale, scale)``: PyTorch's recurrent layers
    (``scale = 1 / sqrt(hidden_size)``) and its word-level language-model example's embedding and
    readout (``scale = 0.1``). (Flax's ``uniform(scale)`` draws from ``[0, scale)``.)

    Args:
      scale: the bound, a finite number >= 0.

    Returns:
      ``init(key, shape, dtype=float32)``, for any shape.

    Raises:
      TypeError: if ``scale`` is not a real number.
      ValueError: if ``scale`` is negative or not finite.
    """
    scale = checks.finite_number(scale, "scale", minimum=0.0)

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        return jax.random.uniform(key, shape, dtype, minval=-scale, maxval=scale)

    return init


def zeros() -> Initializer:
    """Initialiser of all zeros (biases).

    Returns:
      :func:`jax.nn.initializers.zeros`, ``init(key, shape, dtype=float32)``, for any shape.
    """
    return jax.nn.initializers.zeros


def orthogonal(scale: float = 1.0) -> Initializer:
    """Initialiser of ``scale * Q`` with ``Q`` a uniformly random orthogonal matrix.

    ``Q`` is the QR factor of a standard normal matrix with the signs of ``R``'s diagonal
    folded in (Haar-distributed, :func:`jax.nn.initializers.orthogonal`); for a non-square
    ``(n, m)`` shape its columns (``n >= m``) or rows (``n < m``) are orthonormal.

    Args:
      scale: the scalar multiplying ``Q``.

    Returns:
      ``init(key, shape, dtype=float32)``.

    Raises:
      TypeError: if ``scale`` is not a real number.
      ValueError: if ``scale`` is not finite.
    """
    return jax.nn.initializers.orthogonal(scale=checks.finite_number(scale, "scale"))


def glorot_uniform() -> Initializer:
    """Glorot/Xavier uniform: ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Returns:
      :func:`jax.nn.initializers.glorot_uniform`, ``init(key, shape, dtype=float32)``; for a
      ``(fan_in, fan_out)`` shape.
    """
    return jax.nn.initializers.glorot_uniform()


def glorot_normal() -> Initializer:
    """Glorot/Xavier normal: truncated normal with variance ``2 / (fan_in + fan_out)``.

    The normal is truncated at two standard deviations and rescaled so that the drawn entries
    have exactly that variance.

    Returns:
      :func:`jax.nn.initializers.glorot_normal`, ``init(key, shape, dtype=float32)``; for a
      ``(fan_in, fan_out)`` shape.
    """
    return jax.nn.initializers.glorot_normal()


def he_uniform() -> Initializer:
    """He/Kaiming uniform: ``U(-a, a)`` with ``a = sqrt(6 / fan_in)``.

    Returns:
      :func:`jax.nn.initializers.he_uniform`, ``init(key, shape, dtype=float32)``; for a
      ``(fan_in, fan_out)`` shape.
    """
    return jax.nn.initializers.he_uniform()


def he_normal() -> Initializer:
    """He/Kaiming normal: truncated normal with variance ``2 / fan_in``.

    The normal is truncated at two standard deviations and rescaled to that variance.

    Returns:
      :func:`jax.nn.initializers.he_normal`, ``init(key, shape, dtype=float32)``; for a
      ``(fan_in, fan_out)`` shape.
    """
    return jax.nn.initializers.he_normal()


def lecun_normal() -> Initializer:
    """LeCun normal (Flax's default kernel initialiser): variance ``1 / fan_in``.

    A normal truncated at two standard deviations and rescaled to that variance.

    Returns:
      :func:`jax.nn.initializers.lecun_normal`, ``init(key, shape, dtype=float32)``; for a
      ``(fan_in, fan_out)`` shape.
    """
    return jax.nn.initializers.lecun_normal()


def np_rnn() -> Initializer:
    r"""np-RNN recurrent weights (Talathi & Vartak 2015): ``W = (I + R^T R / n) / lambda_max``.

    ``R`` is an ``n x n`` standard normal matrix and ``lambda_max`` the largest eigenvalue of
    ``I + R^T R / n``, so ``W`` is symmetric positive definite with eigenvalues in (0, 1] and
    largest eigenvalue exactly 1 (symmetric, so it is its own transpose: orientation-free).

    Returns:
      ``init(key, shape, dtype=float32)`` for a square ``(n, n)`` shape (else ``ValueError``),
      computed in ``dtype`` promoted to at least float32 and cast to ``dtype``.
    """

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        n = _square_shape(shape, "np_rnn")
        compute_dtype = jnp.promote_types(dtype, jnp.float32)
        noise = jax.random.normal(key, (n, n), compute_dtype)
        matrix = jnp.eye(n, dtype=compute_dtype) + noise.T @ noise / n
        return (matrix / jnp.linalg.eigvalsh(matrix)[-1]).astype(dtype)

    return init


RANDOM_WALK_NONLINEARITIES = ("relu", "tanh", "linear")


def random_walk(nonlinearity: str = "relu") -> Initializer:
    r"""Random-walk initialisation (Sussillo & Abbott 2014): i.i.d. ``N(0, g^2 / N)`` entries,
    ``N = shape[0]`` the fan-in (rows, in the row-vector convention ``x @ w``).

    The gain ``g`` keeps the log of the backpropagated norm a random walk without drift:

    - ``'relu'``: ``g = sqrt(2) exp(1.2 / (max(N, 6) - 2.4))``;
    - ``'linear'``: ``g = exp(1 / (2N))``;
    - ``'tanh'``: ``g = 1.13``, a constant with no formula behind it (it "works well for many
      layer widths").

    These are the gains of ``_random_walk`` in early TensorFlow (``tensorflow/python/ops/
    random_ops.py``, behind the unexported ``_RandomWalkInitializer`` of ``init_ops.py``), which
    draws ``N(0, (g / sqrt(N))^2)`` as here; the ReLU gain is also the one public
    reimplementations use. The IRNN paper scaled its Gaussian ReLU-RNN baselines this way.

    Args:
      nonlinearity: ``'relu'``, ``'tanh'`` or ``'linear'``.

    Returns:
      ``init(key, shape, dtype=float32)`` for a 2-D ``(fan_in, fan_out)`` shape (else
      ``ValueError``), drawing ``(g / sqrt(fan_in)) * N(0, 1)`` in ``dtype``.

    Raises:
      ValueError: for another ``nonlinearity``.
    """
    checks.one_of(nonlinearity, RANDOM_WALK_NONLINEARITIES, "random_walk nonlinearity")
    gains = {
        "relu": lambda fan_in: math.sqrt(2.0) * math.exp(1.2 / (max(fan_in, 6) - 2.4)),
        "linear": lambda fan_in: math.exp(1.0 / (2.0 * fan_in)),
        "tanh": lambda fan_in: 1.13,
    }
    return _fan_in_gaussian(gains[nonlinearity], "random_walk")


def fan_in_gaussian(gain: float = 1.0) -> Initializer:
    """I.i.d. ``N(0, gain^2 / N)`` entries, ``N = shape[0]`` the fan-in: :func:`random_walk`
    with a gain of your choice (``gain=1`` is the plain ``N(0, 1/N)``; unlike
    :func:`lecun_normal`, not truncated).

    Args:
      gain: ``g`` in ``N(0, g^2 / N)``, a finite number >= 0.

    Returns:
      ``init(key, shape, dtype=float32)`` for a 2-D ``(fan_in, fan_out)`` shape with
      ``fan_in >= 1`` (else ``ValueError``).

    Raises:
      TypeError: if ``gain`` is not a real number.
      ValueError: if ``gain`` is negative or not finite.
    """
    gain = checks.finite_number(gain, "gain", minimum=0.0)
    return _fan_in_gaussian(lambda fan_in: gain, "fan_in_gaussian")


def _fan_in_gaussian(gain_of: Callable[[int], float], name: str) -> Initializer:
    def init(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        shape = tuple(shape)
        if len(shape) != 2 or shape[0] < 1:
            raise ValueError(
                f"{name} needs a 2-D shape (fan_in, fan_out) with fan_in >= 1, got shape={shape}"
            )
        fan_in = shape[0]
        return (gain_of(fan_in) / math.sqrt(fan_in)) * jax.random.normal(key, shape, dtype)

    return init


def eigen_spectrum(
    key: jax.Array, n: int, magnitude: float | tuple[float, float], phase: float | tuple[float, float]
) -> jax.Array:
    """The ``n`` complex eigenvalues :func:`eigen` builds from ``key`` (conjugate pairs first,
    then, for odd ``n``, one real eigenvalue).

    Args:
      key: PRNG key, split in three: the magnitudes', the phases' and (used by :func:`eigen`
        only) the orthogonal basis's.
      n: the number of eigenvalues.
      magnitude: ``r``, a number (fixed) or a ``(low, high)`` range drawn uniformly; >= 0.
      phase: ``theta`` in radians, a number or a ``(low, high)`` range drawn uniformly.

    Returns:
      A complex ``[n]`` array, ``r_k e^{i theta_k}`` for ``k < n // 2``, then their conjugates
      in the same order, then for odd ``n`` one real ``r`` (its own magnitude draw).

    Raises:
      TypeError: for a bound that is not a real number.
      ValueError: for a negative or non-finite bound, or a range with ``low > high``.
    """
    magnitude_low, magnitude_high = _interval(magnitude, "magnitude")
    phase_low, phase_high = _interval(phase, "phase")
    if magnitude_low < 0:
        raise ValueError(f"eigen magnitudes must be >= 0, got magnitude={magnitude!r}")
    key_magnitude, key_phase, _ = jax.random.split(key, 3)
    pairs = n // 2
    magnitudes = jax.random.uniform(
        key_magnitude, (pairs + n % 2,), minval=magnitude_low, maxval=magnitude_high
    )
    phases = jax.random.uniform(key_phase, (pairs,), minval=phase_low, maxval=phase_high)
    upper = magnitudes[:pairs] * jnp.exp(1j * phases)
    return jnp.concatenate([upper, jnp.conj(upper), magnitudes[pairs:].astype(upper.dtype)])


def eigen(
    magnitude: float | tuple[float, float] = (0.9, 1.0), phase: float | tuple[float, float] = (0.0, math.pi)
) -> Initializer:
    r"""A real recurrent matrix with a prescribed eigenvalue spectrum (after Dou & Principe 2023).

    Eigenvalues come in conjugate pairs ``r e^{\pm i theta}`` with ``r`` drawn uniformly from
    ``magnitude`` and ``theta`` from ``phase`` (a number fixes the value, a ``(low, high)`` pair
    gives the range); an odd size adds one real eigenvalue ``r``. Each pair becomes the 2x2
    block ``r [[cos, -sin], [sin, cos]]``, and ``W = Q blockdiag(...) Q^T`` with ``Q`` a random
    orthogonal matrix, so ``W`` is normal and its spectrum is exactly the drawn one
    (:func:`eigen_spectrum` returns it). The initialiser returns ``w_hh = W.T``, our row-vector
    orientation (same spectrum).

    The paper's exact recipe could not be checked offline: these defaults (magnitudes in
    [0.9, 1], near the unit circle so information is kept over long sequences; phases spread
    over [0, pi] so different inputs rotate apart) are our reading of its idea, not its settings.

    Args:
      magnitude: ``r``, a number or a ``(low, high)`` range (uniform), >= 0.
      phase: ``theta`` in radians, a number or a ``(low, high)`` range (uniform).

    Returns:
      ``init(key, shape, dtype=float32)`` for a square ``(n, n)`` shape (else ``ValueError``),
      built in float32 and cast to ``dtype``.

    Raises:
      TypeError: for a bound that is not a real number.
      ValueError: for a negative or non-finite bound, or a range with ``low > high``.
    """
    if _interval(magnitude, "magnitude")[0] < 0:
        raise ValueError(f"eigen magnitudes must be >= 0, got magnitude={magnitude!r}")
    _interval(phase, "phase")

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        n = _square_shape(shape, "eigen")
        eigenvalues = eigen_spectrum(key, n, magnitude, phase)
        pairs = n // 2
        upper = eigenvalues[:pairs]
        blocks = jnp.zeros((n, n), jnp.float32)
        rows = 2 * jnp.arange(pairs)
        blocks = blocks.at[rows, rows].set(upper.real).at[rows + 1, rows + 1].set(upper.real)
        blocks = blocks.at[rows, rows + 1].set(-upper.imag).at[rows + 1, rows].set(upper.imag)
        if n % 2:
            blocks = blocks.at[n - 1, n - 1].set(eigenvalues[-1].real)
        basis = jax.nn.initializers.orthogonal()(jax.random.split(key, 3)[2], (n, n), jnp.float32)
        return (basis @ blocks @ basis.T).T.astype(dtype)

    return init


def _interval(value: float | tuple[float, float], name: str) -> tuple[float, float]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = (checks.finite_number(bound, f"{name} bound") for bound in value)
    else:
        low = high = checks.finite_number(value, name)
    if low > high:
        raise ValueError(f"{name} range must have low <= high, got {name}={value!r}")
    return low, high


def per_block(init: Initializer, num_blocks: int) -> Initializer:
    """Initialiser of a ``[n, num_blocks * m]`` matrix as ``num_blocks`` independent ``[n, m]``
    draws of ``init`` side by side: how gated cells (LSTM, GRU) initialise each gate's block.

    Args:
      init: the initialiser of one block.
      num_blocks: the number of blocks, a positive int.

    Returns:
      ``init_blocks(key, shape, dtype=float32)`` for a 2-D shape whose column count divides into
      ``num_blocks`` (else ``ValueError``), each block drawn with its own split of ``key``;
      ``init`` itself when ``num_blocks == 1``.

    Raises:
      ValueError: if ``num_blocks`` is not a positive int.
    """
    if checks.positive_int(num_blocks, "num_blocks") == 1:
        return init

    def init_blocks(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        rows, columns = shape
        if columns % num_blocks:
            raise ValueError(f"shape {tuple(shape)} does not split into {num_blocks} blocks of columns")
        keys = jax.random.split(key, num_blocks)
        return jnp.concatenate([init(k, (rows, columns // num_blocks), dtype) for k in keys], axis=1)

    return init_blocks


def drawn_in_float32(init: Initializer) -> Initializer:
    """``init``, drawn in float32 and rounded for a narrower float dtype (bfloat16, float16): the
    linear algebra of some initialisers (orthogonal's QR, eigen's and np-RNN's eigenvalues) has no
    half-precision kernels, and a rounded float32 draw is the more faithful one anyway.

    Args:
      init: the initialiser to wrap.

    Returns:
      ``draw(key, shape, dtype=float32)``, which returns ``init(key, shape, float32).astype(dtype)``
      for a floating ``dtype`` of fewer than 32 bits, else ``init(key, shape, dtype)``.
    """

    def draw(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        if jnp.issubdtype(dtype, jnp.floating) and jnp.finfo(dtype).bits < 32:
            return init(key, shape, jnp.float32).astype(dtype)
        return init(key, shape, dtype)

    return draw


# Every initialiser by name; a researcher's own join with register (or by import path).
REGISTRY: registry.Registry[Callable[..., Initializer]] = registry.Registry(
    "initializer",
    {
        "identity": identity,
        "scaled_identity": scaled_identity,
        "gaussian": gaussian,
        "normal": gaussian,
        "uniform": uniform,
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
        "np_rnn": np_rnn,
        "random_walk": random_walk,
        "fan_in_gaussian": fan_in_gaussian,
        "eigen": eigen,
    },
)
register = REGISTRY.register


def names() -> list[str]:
    """The initialiser names :func:`get` accepts, sorted (besides import paths).

    Returns:
      The registered names, built-in and added with ``register``, plus any import paths
      already used.
    """
    return REGISTRY.names()


def defaults(name: str) -> dict[str, Any]:
    """The arguments of the initialiser ``name`` with their default values (what a config holds
    when it switches to ``name``).

    Args:
      name: a registered initialiser name or an import path ``'package.module:attribute'``.

    Returns:
      ``{argument: default}`` of the factory's arguments that have a default (``{}`` for one
      without arguments).

    Raises:
      ValueError: for an unknown name or an import path that does not import.
    """
    return {
        parameter.name: parameter.default
        for parameter in inspect.signature(_factory(name)).parameters.values()
        if parameter.default is not inspect.Parameter.empty
    }


def _factory(name: str) -> Callable[..., Initializer]:
    return REGISTRY.get(name)


def get(name: str, **kwargs: Any) -> Initializer:
    """Resolve an initialiser by name, e.g. ``get("identity", gain=1.0)`` or ``get("gaussian", std=1e-3)``.

    Args:
      name: a registered initialiser name (:func:`names`) or an import path
        ``'package.module:attribute'`` of a factory.
      **kwargs: the factory's arguments; those left out take its defaults.

    Returns:
      The initialiser ``init(key, shape, dtype)``, ``factory(**kwargs)``.

    Raises:
      ValueError: for an unknown name (the message lists the known ones), or an argument value
        the factory rejects.
      TypeError: for keyword arguments the named initialiser does not take, or an argument
        value of the wrong type.
    """
    factory = _factory(name)
    signature = inspect.signature(factory)
    try:
        signature.bind(**kwargs)
    except TypeError:
        raise TypeError(
            f"initializer {name!r} takes arguments {list(signature.parameters) or 'none'}, got {kwargs}"
        ) from None
    return factory(**kwargs)
