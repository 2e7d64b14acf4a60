r"""The ReLU and tanh RNN, :math:`h_t = \mathrm{act}(x_t W_{ih} + h_{t-1} W_{hh} + b)`, under
``jax.lax.scan``, with its fused backward pass.

The fused implementation (the default) is a ``jax.custom_vjp`` whose backward pass is a single
reverse scan of

.. math::  g_t = (\partial L/\partial h_t + g_{t+1} W_{hh}^\top) \odot \mathrm{act}'(h_t)

(``act'`` read off the stored states: ``h > 0`` for ReLU, ``1 - h^2`` for tanh), followed by the
weight gradients as single large matmuls outside the loop:
``dW_hh = sum_t h_{t-1}^T g_t``, ``dW_ih = sum_t x_t^T g_t``, ``db = sum_t g_t``. The only
residuals are the hidden states. ``implementation='autodiff'`` differentiates the same forward
scan with ``jax.grad`` and is the reference the fused path is tested against. :func:`rnn_final`
returns only ``h_T`` and has its own, cheaper, fused backward (what a last-state readout needs).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from irnn_jax.core import checks
from irnn_jax.core.parameters import (
    Params,
    check_implementation,
    check_input_size,
    check_params,
    check_xs,
    initial_state,
)
from irnn_jax.core.products import cast_like, hoists_input_projection, transpose_matmul, weight_gradients

ACTIVATIONS = ("relu", "tanh")
Activation = Literal["relu", "tanh"]
Implementation = Literal["auto", "fused", "autodiff"]


def rnn(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    activation: Activation = "relu",
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
    return_state: bool = False,
    probes: jax.Array | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """Run a ReLU or tanh RNN over a batch of sequences.

    Args:
      params: ``{'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``.
      xs: inputs, batch-major ``[B, T, D]``, floating point.
      h0: initial state ``[B, H]``; zeros when ``None``.
      activation: ``'relu'`` or ``'tanh'``.
      unroll: ``lax.scan`` unroll factor of the forward and backward loops.
      implementation: ``'fused'`` (the custom VJP, the fast path), ``'autodiff'`` (the plain
        scan, differentiated by JAX) or ``'auto'``, the faster of the two: for this cell always
        the fused one.
      hoist_input: compute ``xs @ w_ih + b`` as one matmul before the loop (True) or inside each
        step (False); ``None`` picks per shape (:func:`irnn_jax.core.products.hoists_input_projection`).
      return_state: also return the state after the last step, as for :func:`irnn_jax.core.gated.lstm`
        (here ``hs[:, -1]``).
      probes: an array shaped like the states, ``[B, T, H]``, added to each state inside the
        loop, ``h_t = act(...) + e_t``, so that the gradient with respect to ``e_t`` at zero is
        the total derivative ``dL/dh_t`` through all later steps
        (:mod:`irnn_jax.models.diagnostics`). Runs the plain scan, differentiated by JAX.

    Returns:
      ``hs`` ``[B, T, H]``, the state after each step, in the dtype of ``xs`` and ``params``
      promoted together; with ``return_state``, ``(hs, h_T)``.

    Raises:
      TypeError: if ``xs`` is not a floating array or a parameter not floating.
      ValueError: for a shape that does not fit (``xs`` not 3-D or with a zero size, ``params``,
        ``h0`` or ``probes`` of the wrong shape) or an unknown ``activation``,
        ``implementation`` or non-positive ``unroll``.
    """
    options = _Options(activation, unroll, implementation, hoist_input, probes)
    hs, _ = _batch_major(params, xs, h0, options, final_only=False, count_active=False)
    return (hs, hs[:, -1]) if return_state else hs


def rnn_final(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    activation: Activation = "relu",
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
    probes: jax.Array | None = None,
) -> jax.Array:
    """The state after the last step, ``rnn(...)[:, -1]`` (``[B, H]``), with a cheaper backward.

    What a readout of the last state needs: the fused backward reads no ``[T, B, H]`` cotangent
    (all zeros but one step) and pairs each stored state with its step's gradient without
    shifting any array. Arguments (and errors) as :func:`rnn`.

    Args:
      params: ``{'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``.
      xs: inputs, batch-major ``[B, T, D]``, floating point.
      h0: initial state ``[B, H]``; zeros when ``None``.
      activation: ``'relu'`` or ``'tanh'``.
      unroll: ``lax.scan`` unroll factor.
      implementation: ``'fused'``, ``'autodiff'`` or ``'auto'`` (the fused one), as for :func:`rnn`.
      hoist_input: as for :func:`rnn`; ``None`` picks per shape.
      probes: ``[B, T, H]`` added to the states, as for :func:`rnn` (runs the plain scan).

    Returns:
      ``h_T`` ``[B, H]``.
    """
    options = _Options(activation, unroll, implementation, hoist_input, probes)
    final, _ = _batch_major(params, xs, h0, options, final_only=True, count_active=False)
    return final


def rnn_time_major(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    activation: Activation = "relu",
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
    return_state: bool = False,
    probes: jax.Array | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """:func:`rnn` on time-major inputs ``[T, B, D]`` (and ``probes`` ``[T, B, H]``), returning
    ``[T, B, H]`` (and ``h_T``) with no transposes.

    Args:
      params: ``{'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``.
      xs: inputs, time-major ``[T, B, D]``, floating point.
      h0: initial state ``[B, H]``; zeros when ``None``.
      activation: ``'relu'`` or ``'tanh'``.
      unroll: ``lax.scan`` unroll factor.
      implementation: ``'fused'``, ``'autodiff'`` or ``'auto'`` (the fused one), as for :func:`rnn`.
      hoist_input: as for :func:`rnn`; ``None`` picks per shape.
      return_state: also return ``h_T`` ``[B, H]`` (here ``hs[-1]``).
      probes: time-major ``[T, B, H]``, added to the states as for :func:`rnn`.

    Returns:
      ``hs`` ``[T, B, H]``; with ``return_state``, ``(hs, h_T)``.

    Raises:
      TypeError: as for :func:`rnn`.
      ValueError: as for :func:`rnn`.
    """
    options = _Options(activation, unroll, implementation, hoist_input, probes)
    hs, _ = _batch_major(params, xs, h0, options, final_only=False, count_active=False, time_major=True)
    return (hs, hs[-1]) if return_state else hs


def rnn_counting_active(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    final_only: bool,
    activation: Activation = "relu",
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
    probes: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """:func:`rnn` (or with ``final_only`` :func:`rnn_final`) and the fraction of positive
    entries of the states (active ReLUs, for the training log), counted inside the loop, where
    the states are in cache (a reduction over the stored states afterwards costs far more at
    large batch sizes); the fraction is not differentiated.

    Args:
      params: ``{'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``.
      xs: inputs, batch-major ``[B, T, D]``, floating point.
      h0: initial state ``[B, H]``; zeros when ``None``.
      final_only: return ``h_T`` (as :func:`rnn_final`) instead of every state.
      activation: ``'relu'`` or ``'tanh'``.
      unroll: ``lax.scan`` unroll factor.
      implementation: ``'fused'``, ``'autodiff'`` or ``'auto'`` (the fused one), as for :func:`rnn`.
      hoist_input: as for :func:`rnn`; ``None`` picks per shape.
      probes: ``[B, T, H]`` added to the states, as for :func:`rnn` (runs the plain scan).

    Returns:
      ``(hs [B, T, H] or h_T [B, H], active fraction)``, the fraction a float scalar, the mean
      of ``h_t > 0`` over the states ``h_1 .. h_T`` of every sequence and unit.

    Raises:
      TypeError: as for :func:`rnn`.
      ValueError: as for :func:`rnn`.
    """
    options = _Options(activation, unroll, implementation, hoist_input, probes)
    return _batch_major(params, xs, h0, options, final_only=final_only, count_active=True)


class _Options(NamedTuple):
    """The keyword options every function here takes, as given."""

    activation: str
    unroll: int
    implementation: str
    hoist_input: bool | None
    probes: jax.Array | None


def _batch_major(params, xs, h0, options, *, final_only, count_active, time_major=False):
    """Check the arguments and run the recurrence on batch-major ``xs`` (or time-major with
    ``time_major``, whose results stay time-major): ``(hs or h_T, active fraction or None)``."""
    swap = (lambda array: array) if time_major else (lambda array: jnp.swapaxes(array, 0, 1))
    layout = "(time, batch, features)" if time_major else "(batch, time, features)"
    xs = swap(check_xs(xs, "xs", layout))
    loop = _SimpleLoop.checked(params, xs, options, count_active=count_active)
    probes = None if options.probes is None else swap(options.probes)
    result, active = _run(params, xs, h0, loop, options.implementation, probes, final_only=final_only)
    return (result if final_only else swap(result)), active


@dataclasses.dataclass(frozen=True)
class _SimpleLoop:
    """The static choices of one RNN run: hashable, the fused functions' one non-differentiable
    argument."""

    activation: str
    unroll: int
    hoist_input: bool
    count_active: bool

    @classmethod
    def checked(cls, params, xs, options, *, count_active):
        """The loop for time-major ``xs`` ``[T, B, D]`` and ``options``, every argument checked."""
        check_params(params)
        check_input_size(xs, params["w_ih"])
        seq_len, batch_size, input_size = xs.shape
        hoist_input = options.hoist_input
        if hoist_input is None:
            hoist_input = hoists_input_projection(input_size, batch_size, seq_len, params["w_hh"].shape[0])
        return cls(
            activation=checks.one_of(options.activation, ACTIVATIONS, "activation"),
            unroll=checks.positive_int(options.unroll, "unroll"),
            hoist_input=bool(hoist_input),
            count_active=count_active,
        )


def _run(params, xs, h0, loop, implementation, probes, *, final_only):
    """The time-major recurrence: ``(states or final state, fraction of active units or None)``."""
    implementation = check_implementation(implementation)
    w_ih, w_hh, b = params["w_ih"], params["w_hh"], params["b"]
    seq_len, batch_size, _ = xs.shape
    hidden_size = w_hh.shape[0]
    dtype = jnp.result_type(xs, w_ih, w_hh, b)
    (h0,) = initial_state(None if h0 is None else (h0,), 1, batch_size, hidden_size, dtype)
    if probes is not None:
        if jnp.shape(probes) != (seq_len, batch_size, hidden_size):
            raise ValueError(
                f"probes must be shaped like the states, {(seq_len, batch_size, hidden_size)} "
                f"time-major, got {jnp.shape(probes)}"
            )
        implementation = "autodiff"
    if implementation == "autodiff":
        final, hs, active = _forward(loop, w_ih, w_hh, b, xs, h0, probes)
        return (final if final_only else hs), active
    fused = _fused_final if final_only else _fused
    return fused(loop, w_ih, w_hh, b, xs, h0)


def activation_fn(activation: str) -> Callable[[jax.Array], jax.Array]:
    """The function an ``activation`` name stands for.

    Args:
      activation: ``'relu'`` or ``'tanh'`` (checked by the callers).

    Returns:
      ``jax.nn.relu`` or ``jnp.tanh``.
    """
    return jax.nn.relu if activation == "relu" else jnp.tanh


def _gate_by_derivative(activation: str, h: jax.Array, dh: jax.Array) -> jax.Array:
    """``dh * act'(z)`` written in terms of the output ``h = act(z)``."""
    if activation == "relu":
        return jnp.where(h > 0, dh, jnp.zeros_like(dh))
    return dh * (1 - h * h)


def _forward(loop, w_ih, w_hh, b, xs, h0, probes=None, *, emit_previous=False):
    """Time-major forward scan returning ``(h_T, states, active)``; ``states`` holds ``h_t`` at
    step t, or ``h_{t-1}`` with ``emit_previous`` (what the final-state backward pass pairs with
    g_t); ``probes`` ``[T, B, H]``, if given, are added to the states; with
    ``loop.count_active``, ``active`` is the fraction of positive entries of h_1..h_T, counted
    per unit in the loop (else None). Differentiated by JAX in the 'autodiff' implementation."""
    act = activation_fn(loop.activation)
    dtype = h0.dtype
    inputs = xs @ w_ih + b if loop.hoist_input else xs

    def step(carry, scanned):
        h, counts = carry
        x, probe = scanned
        pre_activation = x + h @ w_hh if loop.hoist_input else x @ w_ih + b + h @ w_hh
        h_next = act(pre_activation).astype(dtype)
        if probe is not None:
            h_next = h_next + probe
        if loop.count_active:
            counts = counts + jnp.sum(h_next > 0, axis=0, dtype=jnp.int32)
        return (h_next, counts), (h if emit_previous else h_next)

    counts = jnp.zeros(h0.shape[-1], jnp.int32) if loop.count_active else None
    (final, counts), states = lax.scan(step, (h0, counts), (inputs, probes), unroll=loop.unroll)
    active = jnp.mean(counts / (xs.shape[0] * h0.shape[0])) if loop.count_active else None
    return final, states, active


# The fused functions return ``(result, active fraction or None)``; the fraction gets no gradient.
@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _fused(loop, w_ih, w_hh, b, xs, h0):
    return _forward(loop, w_ih, w_hh, b, xs, h0)[1:]


def _fused_fwd(loop, w_ih, w_hh, b, xs, h0):
    _, hs, active = _forward(loop, w_ih, w_hh, b, xs, h0)
    return (hs, active), (w_ih, w_hh, b, xs, h0, hs)


def _fused_bwd(loop, residuals, cotangents):
    w_ih, w_hh, b, xs, h0, hs = residuals
    dhs = cotangents[0]

    def step(g_next, inputs):
        dh_t, h_t = inputs
        g_t = _gate_by_derivative(loop.activation, h_t, dh_t + transpose_matmul(g_next, w_hh))
        return g_t, g_next

    # The scan emits g_{t+1} at step t (zero at t = T-1) and ends with g_0, so h_t pairs with
    # g_{t+1} and x_{t+1} row by row; only the small xs is shifted, never a [T, B, H] array.
    g_0, gs_next = lax.scan(step, jnp.zeros_like(h0), (dhs, hs), reverse=True, unroll=loop.unroll)
    xs_next = jnp.concatenate([xs[1:], jnp.zeros_like(xs[:1])])
    dw_ih, dw_hh, db = weight_gradients(xs_next, hs, gs_next)
    dw_ih += xs[0].T @ g_0
    dw_hh += h0.T @ g_0
    db += g_0.sum(axis=0)
    dxs = jnp.concatenate([transpose_matmul(g_0, w_ih)[None], transpose_matmul(gs_next[:-1], w_ih)])
    dh0 = transpose_matmul(g_0, w_hh)
    return cast_like((dw_ih, dw_hh, db, dxs, dh0), (w_ih, w_hh, b, xs, h0))


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _fused_final(loop, w_ih, w_hh, b, xs, h0):
    final, _, active = _forward(loop, w_ih, w_hh, b, xs, h0)
    return final, active


def _fused_final_fwd(loop, w_ih, w_hh, b, xs, h0):
    final, previous_states, active = _forward(loop, w_ih, w_hh, b, xs, h0, emit_previous=True)
    return (final, active), (w_ih, w_hh, b, xs, h0, final, previous_states)


def _fused_final_bwd(loop, residuals, cotangents):
    w_ih, w_hh, b, xs, h0, final, previous_states = residuals
    d_final = cotangents[0]

    def step(carry, h_prev):
        dh_t, h_t = carry
        g_t = _gate_by_derivative(loop.activation, h_t, dh_t)
        return (transpose_matmul(g_t, w_hh), h_prev), g_t

    # Carrying h_t from the step before lets step t read only h_{t-1}, the state that
    # multiplied w_hh at step t: gs and previous_states pair row by row with no shift.
    (dh0, _), gs = lax.scan(step, (d_final, final), previous_states, reverse=True, unroll=loop.unroll)
    dw_ih, dw_hh, db = weight_gradients(xs, previous_states, gs)
    dxs = transpose_matmul(gs, w_ih)
    return cast_like((dw_ih, dw_hh, db, dxs, dh0), (w_ih, w_hh, b, xs, h0))


_fused.defvjp(_fused_fwd, _fused_bwd)
_fused_final.defvjp(_fused_final_fwd, _fused_final_bwd)
