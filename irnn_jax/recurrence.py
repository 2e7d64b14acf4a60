r"""Pure recurrences under ``jax.lax.scan``.

Row-vector convention (as Flax's ``Dense``): for a batch of states ``h`` of shape ``[B, H]``

.. math::  h_t = \mathrm{act}(x_t W_{ih} + h_{t-1} W_{hh} + b)

with ``params = {'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``. A paper's column-form recurrent
matrix ``W`` (``W h``) is ``w_hh.T``.

The default ("fused") implementation is a ``jax.custom_vjp`` whose backward pass is a single
reverse scan of

.. math::  g_t = (\partial L/\partial h_t + g_{t+1} W_{hh}^\top) \odot \mathrm{act}'(h_t)

(``act'`` read off the stored states: ``h > 0`` for ReLU, ``1 - h^2`` for tanh), followed by the
weight gradients as single large matmuls outside the loop:
``dW_hh = sum_t h_{t-1}^T g_t``, ``dW_ih = sum_t x_t^T g_t``, ``db = sum_t g_t``. The only
residuals are the hidden states. ``implementation='autodiff'`` differentiates the same forward
scan with ``jax.grad`` and is the reference the fused path is tested against.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp
from jax import lax

from irnn_jax import checks, initializers

Params = dict[str, jax.Array]
ACTIVATIONS = ("relu", "tanh")
IMPLEMENTATIONS = ("fused", "autodiff")


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
      dtype: parameter dtype.
    """
    checks.positive_int(input_size, "input_size")
    checks.positive_int(hidden_size, "hidden_size")
    recurrent_init = recurrent_init or initializers.identity()
    input_init = input_init or initializers.gaussian(1e-3)
    bias_init = bias_init or initializers.zeros()
    key_ih, key_hh, key_b = jax.random.split(key, 3)
    return {
        "w_ih": input_init(key_ih, (input_size, hidden_size), dtype),
        "w_hh": recurrent_init(key_hh, (hidden_size, hidden_size), dtype),
        "b": bias_init(key_b, (hidden_size,), dtype),
    }


def rnn(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    activation: Literal["relu", "tanh"] = "relu",
    unroll: int = 1,
    implementation: Literal["fused", "autodiff"] = "fused",
    hoist_input: bool | None = None,
) -> jax.Array:
    """Run a ReLU or tanh RNN over a batch of sequences.

    Args:
      params: ``{'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``.
      xs: inputs, batch-major ``[B, T, D]``, floating point.
      h0: initial state ``[B, H]``; zeros when ``None``.
      activation: ``'relu'`` or ``'tanh'``.
      unroll: ``lax.scan`` unroll factor of the forward and backward loops.
      implementation: ``'fused'`` (custom VJP, the fast path) or ``'autodiff'`` (plain scan).
      hoist_input: compute ``xs @ w_ih + b`` as one matmul before the loop (True) or inside
        each step (False); ``None`` picks per shape (:func:`hoists_input_projection`).

    Returns:
      ``hs`` of shape ``[B, T, H]``: the state after each step.
    """
    hs = rnn_time_major(
        params,
        jnp.swapaxes(_check_xs(xs, "xs", "(batch, time, features)"), 0, 1),
        h0,
        activation=activation,
        unroll=unroll,
        implementation=implementation,
        hoist_input=hoist_input,
    )
    return jnp.swapaxes(hs, 0, 1)


def rnn_time_major(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    activation: Literal["relu", "tanh"] = "relu",
    unroll: int = 1,
    implementation: Literal["fused", "autodiff"] = "fused",
    hoist_input: bool | None = None,
) -> jax.Array:
    """:func:`rnn` on time-major inputs ``[T, B, D]``, returning ``[T, B, H]`` (no transposes)."""
    w_ih, w_hh, b = _check_params(params)
    xs = _check_xs(xs, "xs", "(time, batch, features)")
    seq_len, batch_size, input_size = xs.shape
    hidden_size = w_hh.shape[0]
    if input_size != w_ih.shape[0]:
        raise ValueError(
            f"xs has input size {input_size} but params['w_ih'] expects {w_ih.shape[0]} "
            f"(w_ih shape {w_ih.shape})"
        )
    checks.one_of(activation, ACTIVATIONS, "activation")
    checks.one_of(implementation, IMPLEMENTATIONS, "implementation")
    checks.positive_int(unroll, "unroll")
    dtype = jnp.result_type(xs, w_ih, w_hh, b)
    if h0 is None:
        h0 = jnp.zeros((batch_size, hidden_size), dtype)
    elif jnp.shape(h0) != (batch_size, hidden_size):
        raise ValueError(
            f"h0 must have shape (batch, hidden) = {(batch_size, hidden_size)}, got {jnp.shape(h0)}"
        )
    else:
        h0 = jnp.asarray(h0, dtype)
    if hoist_input is None:
        hoist_input = hoists_input_projection(input_size, batch_size, seq_len, hidden_size)
    options = (activation, unroll, bool(hoist_input))
    if implementation == "autodiff":
        return _forward(*options, w_ih, w_hh, b, xs, h0)
    return _fused(*options, w_ih, w_hh, b, xs, h0)


def hoists_input_projection(input_size: int, batch_size: int, seq_len: int, hidden_size: int) -> bool:
    """Whether the default path computes ``xs @ w_ih + b`` before the loop for this shape.

    For a scalar input the in-loop product is a cheap broadcast multiply, while hoisting adds a
    ``[T, B, H]`` array to memory traffic; for wider inputs one large matmul beats T small ones.
    """
    del batch_size, seq_len, hidden_size
    return input_size > 1


def _check_xs(xs: jax.Array, name: str, layout: str) -> jax.Array:
    if not hasattr(xs, "shape") or not hasattr(xs, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(xs).__name__}")
    if xs.ndim != 3:
        raise ValueError(f"{name} must be 3-D {layout}, got shape {xs.shape}")
    if not jnp.issubdtype(xs.dtype, jnp.floating):
        raise TypeError(f"{name} must have a floating dtype, got {xs.dtype}")
    if 0 in xs.shape:
        raise ValueError(f"{name} must have non-zero sizes, got shape {xs.shape}")
    return xs


def _check_params(params: Params) -> tuple[jax.Array, jax.Array, jax.Array]:
    missing = {"w_ih", "w_hh", "b"} - set(params)
    if missing:
        raise ValueError(f"params is missing {sorted(missing)}; expected keys w_ih, w_hh, b")
    w_ih, w_hh, b = params["w_ih"], params["w_hh"], params["b"]
    hidden_size = w_hh.shape[-1]
    if w_hh.ndim != 2 or w_hh.shape[0] != hidden_size:
        raise ValueError(f"params['w_hh'] must be square (H, H), got shape {w_hh.shape}")
    if w_ih.ndim != 2 or w_ih.shape[1] != hidden_size:
        raise ValueError(f"params['w_ih'] must have shape (D, {hidden_size}), got {w_ih.shape}")
    if b.shape != (hidden_size,):
        raise ValueError(f"params['b'] must have shape ({hidden_size},), got {b.shape}")
    for name, value in (("w_ih", w_ih), ("w_hh", w_hh), ("b", b)):
        if not jnp.issubdtype(value.dtype, jnp.floating):
            raise TypeError(f"params[{name!r}] must have a floating dtype, got {value.dtype}")
    return w_ih, w_hh, b


def _activation_fn(activation: str) -> Callable[[jax.Array], jax.Array]:
    return jax.nn.relu if activation == "relu" else jnp.tanh


def _gate_by_derivative(activation: str, h: jax.Array, dh: jax.Array) -> jax.Array:
    """``dh * act'(z)`` written in terms of the output ``h = act(z)``."""
    if activation == "relu":
        return jnp.where(h > 0, dh, jnp.zeros_like(dh))
    return dh * (1 - h * h)


def _forward(activation, unroll, hoist_input, w_ih, w_hh, b, xs, h0):
    """Time-major forward scan; differentiated by JAX in the 'autodiff' implementation."""
    act = _activation_fn(activation)
    dtype = h0.dtype
    if hoist_input:

        def step(h, projected_x):
            h = act(projected_x + h @ w_hh).astype(dtype)
            return h, h

        inputs = xs @ w_ih + b
    else:

        def step(h, x):
            h = act(x @ w_ih + b + h @ w_hh).astype(dtype)
            return h, h

        inputs = xs
    _, hs = lax.scan(step, h0, inputs, unroll=unroll)
    return hs


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def _fused(activation, unroll, hoist_input, w_ih, w_hh, b, xs, h0):
    return _forward(activation, unroll, hoist_input, w_ih, w_hh, b, xs, h0)


def _fused_fwd(activation, unroll, hoist_input, w_ih, w_hh, b, xs, h0):
    hs = _forward(activation, unroll, hoist_input, w_ih, w_hh, b, xs, h0)
    return hs, (w_ih, w_hh, b, xs, h0, hs)


def _fused_bwd(activation, unroll, hoist_input, residuals, dhs):
    del hoist_input
    w_ih, w_hh, b, xs, h0, hs = residuals
    seq_len, batch_size, hidden_size = hs.shape

    def step(g_next, inputs):
        dh_t, h_t = inputs
        dh_from_future = lax.dot_general(g_next, w_hh, (((1,), (1,)), ((), ())))
        g_t = _gate_by_derivative(activation, h_t, dh_t + dh_from_future)
        return g_t, g_next

    # The scan emits g_{t+1} at step t (zero at t = T-1) and ends with g_0, so every weight
    # gradient below is one GEMM over whole [T*B, .] arrays, with no slice of the big ones.
    g_0, gs_next = lax.scan(step, jnp.zeros_like(h0), (dhs, hs), reverse=True, unroll=unroll)
    rows = seq_len * batch_size
    gs_next_rows = gs_next.reshape(rows, hidden_size)
    dw_hh = h0.T @ g_0 + hs.reshape(rows, hidden_size).T @ gs_next_rows
    db = g_0.sum(axis=0) + gs_next_rows.sum(axis=0)
    xs_next = jnp.concatenate([xs[1:], jnp.zeros_like(xs[:1])])
    dw_ih = xs[0].T @ g_0 + xs_next.reshape(rows, -1).T @ gs_next_rows
    dxs_next = lax.dot_general(gs_next, w_ih, (((2,), (1,)), ((), ())))
    dxs = jnp.concatenate([(g_0 @ w_ih.T)[None], dxs_next[:-1]])
    dh0 = lax.dot_general(g_0, w_hh, (((1,), (1,)), ((), ())))
    return tuple(
        grad.astype(primal.dtype)
        for grad, primal in ((dw_ih, w_ih), (dw_hh, w_hh), (db, b), (dxs, xs), (dh0, h0))
    )


_fused.defvjp(_fused_fwd, _fused_bwd)
