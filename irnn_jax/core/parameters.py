"""The parameters of the recurrent cells and the checks of what the recurrences are given.

Row-vector convention (as Flax's ``Dense``): a simple RNN has ``{'w_ih': [D, H], 'w_hh': [H, H],
'b': [H]}``; an LSTM (GRU) has its 4 (3) gate blocks side by side along the last axis, in
PyTorch's gate order, and a GRU the candidate's recurrent bias ``b_hn`` ``[H]``.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

from irnn_jax.core import checks, initializers

Params = dict[str, jax.Array]
# Gate blocks per cell kind (the width of w_ih, w_hh and b is that many times H).
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
State = jax.Array | tuple[jax.Array, jax.Array]
# How a recurrence is differentiated: "fused" (its custom VJP), "autodiff" (JAX's gradient of the
# plain scan, the reference) or "auto" (the faster of the two for the cell and batch size).
IMPLEMENTATIONS = ("auto", "fused", "autodiff")


def parameter_specs(
    kind: Literal["rnn", "lstm", "gru"],
    input_size: int,
    hidden_size: int,
    *,
    recurrent_init: initializers.Initializer,
    input_init: initializers.Initializer,
    bias_init: initializers.Initializer,
    forget_bias: float = 0.0,
) -> dict[str, tuple[tuple[int, ...], initializers.Initializer]]:
    """``{name: (shape, initializer)}`` of each parameter of a ``kind`` layer.

    The one description of the parameters that both the ``init_*`` functions and the Flax
    modules use. Gated cells get one draw of each initialiser per gate block (so an identity
    ``recurrent_init`` gives an identity block per gate); an LSTM's forget-gate bias gets
    ``forget_bias`` added; a GRU has the extra candidate bias ``b_hn`` (zeros). Parameters of a
    half-precision dtype are drawn in float32 and rounded
    (:func:`irnn_jax.core.initializers.drawn_in_float32`).

    Args:
      kind: ``'rnn'``, ``'lstm'`` or ``'gru'``; ``G`` = 1, 4 or 3 gate blocks.
      input_size: ``D``, a positive int.
      hidden_size: ``H``, a positive int.
      recurrent_init: initialiser of each ``[H, H]`` block of ``w_hh``.
      input_init: initialiser of each ``[D, H]`` block of ``w_ih``.
      bias_init: initialiser of ``b`` ``[G*H]`` (one draw for all gates).
      forget_bias: added to the LSTM's forget-gate bias, ``b[H:2H]``; ignored for other kinds.

    Returns:
      ``{'w_ih': ([D, G*H], init), 'w_hh': ([H, G*H], init), 'b': ([G*H], init)}``, and for a
      GRU ``'b_hn': ([H], zeros)``; each ``init(key, shape, dtype)``.

    Raises:
      ValueError: for an unknown ``kind``, a size that is not a positive int, or a non-finite
        ``forget_bias`` (an LSTM's).
      TypeError: for an LSTM's ``forget_bias`` that is not a real number.
    """
    checks.one_of(kind, tuple(GATES), "cell kind")
    checks.positive_int(input_size, "input_size")
    checks.positive_int(hidden_size, "hidden_size")
    num_gates = GATES[kind]
    width = num_gates * hidden_size
    if kind == "lstm":
        forget_bias = checks.finite_number(forget_bias, "forget_bias")
        plain_bias_init = bias_init

        def bias_init(key, shape, dtype=jnp.float32):
            return plain_bias_init(key, shape, dtype).at[hidden_size : 2 * hidden_size].add(forget_bias)

    specs = {
        "w_ih": ((input_size, width), initializers.per_block(input_init, num_gates)),
        "w_hh": ((hidden_size, width), initializers.per_block(recurrent_init, num_gates)),
        "b": ((width,), bias_init),
    }
    if kind == "gru":
        specs["b_hn"] = ((hidden_size,), initializers.zeros())
    return {name: (shape, initializers.drawn_in_float32(init)) for name, (shape, init) in specs.items()}


# (recurrent, input, bias) initialisers when none is given: the IRNN's for the simple RNN,
# Flax's LSTMCell/GRUCell defaults for the gated cells.
_DEFAULT_INITS = {
    "rnn": (initializers.identity(), initializers.gaussian(1e-3), initializers.zeros()),
    "lstm": (initializers.orthogonal(), initializers.lecun_normal(), initializers.zeros()),
    "gru": (initializers.orthogonal(), initializers.lecun_normal(), initializers.zeros()),
}


def _init_params(kind, key, input_size, hidden_size, dtype, inits, forget_bias=0.0) -> Params:
    recurrent_init, input_init, bias_init = (
        given or default for given, default in zip(inits, _DEFAULT_INITS[kind], strict=True)
    )
    specs = parameter_specs(
        kind,
        input_size,
        hidden_size,
        recurrent_init=recurrent_init,
        input_init=input_init,
        bias_init=bias_init,
        forget_bias=forget_bias,
    )
    keys = jax.random.split(key, len(specs))
    return {name: init(k, shape, dtype) for k, (name, (shape, init)) in zip(keys, specs.items(), strict=True)}


def init_rnn(
    key: jax.Array,
    input_size: int,
    hidden_size: int,
    *,
    recurrent_init: initializers.Initializer | None = None,
    input_init: initializers.Initializer | None = None,
    bias_init: initializers.Initializer | None = None,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """Parameters ``{'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}`` of a simple RNN.

    Args:
      key: PRNG key.
      input_size: ``D``, a positive int.
      hidden_size: ``H``, a positive int.
      recurrent_init: initialiser of ``w_hh``; default ``identity()`` (IRNN).
      input_init: initialiser of ``w_ih``; default ``gaussian(0.001)`` (the paper's N(0, 0.001)).
      bias_init: initialiser of ``b``; default zeros.
      dtype: parameter dtype (a half-precision one is drawn in float32 and rounded).

    Returns:
      The parameters, each drawn with its own split of ``key``.

    Raises:
      ValueError: for a size that is not a positive int.
    """
    return _init_params("rnn", key, input_size, hidden_size, dtype, (recurrent_init, input_init, bias_init))


def init_lstm(
    key: jax.Array,
    input_size: int,
    hidden_size: int,
    *,
    recurrent_init: initializers.Initializer | None = None,
    input_init: initializers.Initializer | None = None,
    bias_init: initializers.Initializer | None = None,
    forget_bias: float = 1.0,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """LSTM parameters ``{'w_ih': [D, 4H], 'w_hh': [H, 4H], 'b': [4H]}``, gates in the order
    (input, forget, cell, output) along the last axis, as PyTorch's.

    Each gate's ``[D, H]`` and ``[H, H]`` block is drawn by its own call of the initialiser
    (default: LeCun normal input, orthogonal recurrent, zero bias, as Flax's ``LSTMCell``), then
    ``forget_bias`` is added to the forget gate's bias (Flax uses 0; the IRNN paper searched
    {1, 4, 10, 20} for its LSTM baseline).

    Args:
      key: PRNG key.
      input_size: ``D``, a positive int.
      hidden_size: ``H``, a positive int.
      recurrent_init: initialiser of each ``[H, H]`` gate block of ``w_hh``; default ``orthogonal()``.
      input_init: initialiser of each ``[D, H]`` gate block of ``w_ih``; default ``lecun_normal()``.
      bias_init: initialiser of ``b`` ``[4H]``; default zeros.
      forget_bias: added to the forget gate's bias ``b[H:2H]``.
      dtype: parameter dtype (a half-precision one is drawn in float32 and rounded).

    Returns:
      The parameters, each drawn with its own split of ``key``.

    Raises:
      ValueError: for a size that is not a positive int or a non-finite ``forget_bias``.
      TypeError: for a ``forget_bias`` that is not a real number.
    """
    inits = (recurrent_init, input_init, bias_init)
    return _init_params("lstm", key, input_size, hidden_size, dtype, inits, forget_bias=forget_bias)


def init_gru(
    key: jax.Array,
    input_size: int,
    hidden_size: int,
    *,
    recurrent_init: initializers.Initializer | None = None,
    input_init: initializers.Initializer | None = None,
    bias_init: initializers.Initializer | None = None,
    dtype: jnp.dtype = jnp.float32,
) -> Params:
    """GRU parameters ``{'w_ih': [D, 3H], 'w_hh': [H, 3H], 'b': [3H], 'b_hn': [H]}``, gates in
    the order (reset, update, candidate), as PyTorch's; ``b_hn`` is the recurrent bias of the
    candidate, which sits inside the reset gate's product (see :func:`irnn_jax.core.gated.gru`).

    Args:
      key: PRNG key.
      input_size: ``D``, a positive int.
      hidden_size: ``H``, a positive int.
      recurrent_init: initialiser of each ``[H, H]`` gate block of ``w_hh``; default ``orthogonal()``.
      input_init: initialiser of each ``[D, H]`` gate block of ``w_ih``; default ``lecun_normal()``.
      bias_init: initialiser of ``b`` ``[3H]``; default zeros (``b_hn`` is always zeros).
      dtype: parameter dtype (a half-precision one is drawn in float32 and rounded).

    Returns:
      The parameters, each drawn with its own split of ``key``.

    Raises:
      ValueError: for a size that is not a positive int.
    """
    return _init_params("gru", key, input_size, hidden_size, dtype, (recurrent_init, input_init, bias_init))


def initial_state(
    state: tuple[jax.Array, ...] | None, parts: int, batch_size: int, hidden_size: int, dtype: jnp.dtype
) -> tuple[jax.Array, ...]:
    """A tuple of ``parts`` states ``[B, H]`` (zeros for ``None``), each shape-checked.

    Args:
      state: the given initial state, a tuple of ``parts`` arrays ``[B, H]``, or ``None``.
      parts: 2 for an LSTM's ``(h, c)``, else 1.
      batch_size: ``B``.
      hidden_size: ``H``.
      dtype: the dtype of the returned states.

    Returns:
      ``parts`` arrays ``[B, H]`` in ``dtype``.

    Raises:
      TypeError: if ``state`` is not a tuple of ``parts`` items.
      ValueError: if a part is not ``[B, H]``.
    """
    if state is None:
        return (jnp.zeros((batch_size, hidden_size), dtype),) * parts
    if not isinstance(state, tuple) or len(state) != parts:
        kind = "a (h, c) tuple" if parts == 2 else "an array"
        raise TypeError(f"h0 must be {kind} of [batch, hidden] arrays, got {type(state).__name__}")
    for part in state:
        if jnp.shape(part) != (batch_size, hidden_size):
            raise ValueError(
                f"h0 must have shape (batch, hidden) = {(batch_size, hidden_size)}, got {jnp.shape(part)}"
            )
    return tuple(jnp.asarray(part, dtype) for part in state)


def check_xs(xs: jax.Array, name: str, layout: str) -> jax.Array:
    """Check that ``xs`` is a 3-D floating array with no zero size.

    Args:
      xs: the inputs, ``[B, T, D]`` or ``[T, B, D]``.
      name: their name in the error messages.
      layout: the expected layout in words, for the error message (``'(batch, time, features)'``).

    Returns:
      ``xs``, unchanged.

    Raises:
      TypeError: if ``xs`` is not an array or not of a floating dtype.
      ValueError: if ``xs`` is not 3-D or has a zero size.
    """
    if not hasattr(xs, "shape") or not hasattr(xs, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(xs).__name__}")
    if xs.ndim != 3:
        raise ValueError(f"{name} must be 3-D {layout}, got shape {xs.shape}")
    if not jnp.issubdtype(xs.dtype, jnp.floating):
        raise TypeError(f"{name} must have a floating dtype, got {xs.dtype}")
    if 0 in xs.shape:
        raise ValueError(f"{name} must have non-zero sizes, got shape {xs.shape}")
    return xs


def check_input_size(xs: jax.Array, w_ih: jax.Array) -> None:
    """Check that the inputs' last axis, ``D``, matches ``w_ih`` ``[D, G*H]``.

    Args:
      xs: the inputs ``[..., D]``.
      w_ih: the input weights.

    Raises:
      ValueError: if ``xs.shape[-1] != w_ih.shape[0]``.
    """
    if xs.shape[-1] != w_ih.shape[0]:
        raise ValueError(
            f"xs has input size {xs.shape[-1]} but params['w_ih'] expects {w_ih.shape[0]} "
            f"(w_ih shape {w_ih.shape})"
        )


def check_implementation(implementation: str) -> str:
    """The checked ``implementation`` argument of every recurrence.

    Args:
      implementation: ``'auto'``, ``'fused'`` or ``'autodiff'``.

    Returns:
      ``implementation``, unchanged.

    Raises:
      ValueError: for any other value.
    """
    return checks.one_of(implementation, IMPLEMENTATIONS, "implementation")


def check_params(params: Params, num_gates: int = 1, extra: tuple[str, ...] = ()) -> int:
    """Check ``w_ih [D, G*H]``, ``w_hh [H, G*H]``, ``b [G*H]`` (+ ``extra`` ``[H]``); return H.

    Args:
      params: the cell's parameters.
      num_gates: ``G``, the number of gate blocks (1, 4 or 3).
      extra: names of further ``[H]`` parameters (a GRU's ``'b_hn'``).

    Returns:
      ``H``, read off ``w_hh``.

    Raises:
      ValueError: for a missing key or a parameter of the wrong shape.
      TypeError: for a parameter that is not of a floating dtype.
    """
    expected = ("w_ih", "w_hh", "b", *extra)
    missing = set(expected) - set(params)
    if missing:
        raise ValueError(f"params is missing {sorted(missing)}; expected keys {', '.join(expected)}")
    w_ih, w_hh, b = params["w_ih"], params["w_hh"], params["b"]
    hidden_size = w_hh.shape[0] if w_hh.ndim == 2 else -1
    width = num_gates * hidden_size
    gates = f"{num_gates}*H" if num_gates > 1 else "H"
    if w_hh.ndim != 2 or w_hh.shape[1] != width:
        raise ValueError(
            f"params['w_hh'] must have shape (H, {gates})"
            + (" (square)" if num_gates == 1 else "")
            + f", got shape {w_hh.shape}"
        )
    if w_ih.ndim != 2 or w_ih.shape[1] != width:
        raise ValueError(f"params['w_ih'] must have shape (D, {width}), got {w_ih.shape}")
    if b.shape != (width,):
        raise ValueError(f"params['b'] must have shape ({width},), got {b.shape}")
    for name in extra:
        if params[name].shape != (hidden_size,):
            raise ValueError(f"params[{name!r}] must have shape ({hidden_size},), got {params[name].shape}")
    for name in expected:
        if not jnp.issubdtype(params[name].dtype, jnp.floating):
            raise TypeError(f"params[{name!r}] must have a floating dtype, got {params[name].dtype}")
    return hidden_size
