r"""The LSTM and the GRU under ``jax.lax.scan``, with their fused backward passes.

The same row-vector convention as the simple RNN, with the gate blocks side by side along the
last axis (PyTorch's gate order). The fused implementation is a ``jax.custom_vjp``: the forward
scan stores one slab per step (the activated gates and what else the step's derivative reads),
the backward is one reverse scan whose only matmul is the recurrent one, and the weight gradients
are single matmuls after it; it is the default (``'auto'``) at the batch sizes where it measured
faster than JAX's autodiff of the plain scan.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Literal

import jax
import jax.numpy as jnp
from jax import lax

from irnn_jax.core import checks
from irnn_jax.core.parameters import (
    GATES,
    Params,
    check_implementation,
    check_input_size,
    check_params,
    check_xs,
    initial_state,
)
from irnn_jax.core.products import (
    cast_like,
    hoists_input_projection,
    project,
    transpose_matmul,
    weight_gradients,
)

GATED_FUSED_MAX_BATCH = 32  # see fuses_gated_backward
Implementation = Literal["auto", "fused", "autodiff"]


def fuses_gated_backward(batch_size: int) -> bool:
    """Whether an LSTM or GRU of this batch size takes the fused backward pass by default.

    The fused pass stores the activated gates of every step so that its backward does no
    transcendental; at small batches that saves the time, at large ones the larger residuals
    cost more memory traffic than they save. ``benchmarks/train_step.py --cells lstm gru``
    (``benchmarks/results/train_step-20261201T201122Z.json``) measured the fused pass 1.37x
    (LSTM) and 1.04x (GRU) faster than autodiff at B=16, T=784, and 0.88x and 0.83x at B=128
    (the crossover in between was not measured).

    Args:
      batch_size: ``B``.

    Returns:
      ``batch_size <= GATED_FUSED_MAX_BATCH`` (32).
    """
    return batch_size <= GATED_FUSED_MAX_BATCH


def lstm(
    params: Params,
    xs: jax.Array,
    h0: tuple[jax.Array, jax.Array] | None = None,
    *,
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
    return_state: bool = False,
) -> jax.Array | tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    r"""Run an LSTM over batch-major ``xs`` ``[B, T, D]``; return ``hs`` ``[B, T, H]``.

    With ``z_t = x_t W_{ih} + b + h_{t-1} W_{hh}`` split into (i, f, g, o):
    ``c_t = \sigma(f) c_{t-1} + \sigma(i) \tanh(g)``, ``h_t = \sigma(o) \tanh(c_t)``. The fused
    backward pass is one reverse scan over the stored activated gates and cell states, whose only
    matmul is ``dz_t W_{hh}^\top``, with the weight gradients as single matmuls after it.

    Args:
      params: see :func:`irnn_jax.core.parameters.init_lstm`.
      xs: inputs ``[B, T, D]``.
      h0: initial ``(h, c)``, each ``[B, H]``; zeros when ``None``.
      unroll: scan unroll factor of the forward and backward loops.
      implementation: ``'fused'`` (the custom VJP), ``'autodiff'`` (the plain scan,
        differentiated by JAX) or ``'auto'``, the faster of the two for the batch size
        (:func:`fuses_gated_backward`).
      hoist_input: compute ``xs @ w_ih + b`` as one matmul before the loop (True) or inside each
        step (False); ``None`` picks per shape (:func:`irnn_jax.core.products.hoists_input_projection`).
      return_state: also return the final ``(h, c)`` (to carry across truncated BPTT windows).

    Returns:
      ``hs`` ``[B, T, H]``; with ``return_state``, ``(hs, (h_T, c_T))``.

    Raises:
      TypeError: if ``xs`` is not a floating array, a parameter not floating, or ``h0`` not a
        tuple of two arrays.
      ValueError: for a shape that does not fit (``xs`` not 3-D or with a zero size, ``params``
        missing a key or of the wrong shape, ``h0`` parts not ``[B, H]``), an unknown
        ``implementation`` or a non-positive ``unroll``.
    """
    hs, final = _gated(
        "lstm", params, xs, h0, _GatedOptions(unroll, implementation, hoist_input), final_only=False
    )
    return (hs, final) if return_state else hs


def lstm_final(
    params: Params,
    xs: jax.Array,
    h0: tuple[jax.Array, jax.Array] | None = None,
    *,
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The final ``(h, c)`` of :func:`lstm` (``[B, H]`` each): what a last-state readout needs.
    Its fused backward pass reads no ``[T, B, H]`` cotangent of the states. Arguments (and errors)
    as :func:`lstm`.

    Args:
      params: see :func:`irnn_jax.core.parameters.init_lstm`.
      xs: inputs ``[B, T, D]``.
      h0: initial ``(h, c)``, each ``[B, H]``; zeros when ``None``.
      unroll: scan unroll factor of the forward and backward loops.
      implementation: ``'fused'``, ``'autodiff'`` or ``'auto'`` (:func:`fuses_gated_backward`).
      hoist_input: as for :func:`lstm`; ``None`` picks per shape.

    Returns:
      ``(h_T, c_T)``, each ``[B, H]``.
    """
    return _gated(
        "lstm", params, xs, h0, _GatedOptions(unroll, implementation, hoist_input), final_only=True
    )[1]


def gru(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
    return_state: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    r"""Run a GRU over batch-major ``xs`` ``[B, T, D]``; return ``hs`` ``[B, T, H]``.

    With ``x_t W_{ih} + b`` split into (a_r, a_z, a_n) and ``h_{t-1} W_{hh}`` into (u_r, u_z, u_n):
    ``r = \sigma(a_r + u_r)``, ``z = \sigma(a_z + u_z)``, ``n = \tanh(a_n + r (u_n + b_{hn}))``,
    ``h_t = (1 - z) n + z h_{t-1}`` (PyTorch's and Flax's GRU). The fused backward pass is one
    reverse scan over the stored gates, whose only matmul is the gradient of ``u_t`` times
    ``W_{hh}^\top``, with the weight gradients as single matmuls after it.

    Args:
      params: see :func:`irnn_jax.core.parameters.init_gru`.
      xs: inputs ``[B, T, D]``.
      h0: initial state ``[B, H]``; zeros when ``None``.
      unroll: scan unroll factor of the forward and backward loops.
      implementation: ``'fused'``, ``'autodiff'`` or ``'auto'``, as for :func:`lstm`.
      hoist_input: as for :func:`lstm`; ``None`` picks per shape.
      return_state: also return the final state ``[B, H]`` (here ``hs[:, -1]``).

    Returns:
      ``hs`` ``[B, T, H]``; with ``return_state``, ``(hs, h_T)``.

    Raises:
      TypeError: if ``xs`` is not a floating array or a parameter not floating.
      ValueError: as for :func:`lstm` (``params`` also needs ``b_hn`` ``[H]``).
    """
    state0 = None if h0 is None else (h0,)
    hs, (final,) = _gated(
        "gru", params, xs, state0, _GatedOptions(unroll, implementation, hoist_input), final_only=False
    )
    return (hs, final) if return_state else hs


def gru_final(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    unroll: int = 1,
    implementation: Implementation = "auto",
    hoist_input: bool | None = None,
) -> jax.Array:
    """The final state of :func:`gru` (``[B, H]``), as :func:`lstm_final`.

    Args:
      params: see :func:`irnn_jax.core.parameters.init_gru`.
      xs: inputs ``[B, T, D]``.
      h0: initial state ``[B, H]``; zeros when ``None``.
      unroll: scan unroll factor of the forward and backward loops.
      implementation: ``'fused'``, ``'autodiff'`` or ``'auto'``, as for :func:`lstm`.
      hoist_input: as for :func:`lstm`; ``None`` picks per shape.

    Returns:
      ``h_T`` ``[B, H]``.
    """
    state0 = None if h0 is None else (h0,)
    options = _GatedOptions(unroll, implementation, hoist_input)
    return _gated("gru", params, xs, state0, options, final_only=True)[1][0]


@dataclasses.dataclass(frozen=True)
class _GatedOptions:
    """The keyword options of the public functions, as given."""

    unroll: int
    implementation: str
    hoist_input: bool | None


@dataclasses.dataclass(frozen=True)
class _GatedLoop:
    """The static choices of one LSTM or GRU run (the fused functions' non-differentiable argument)."""

    kind: str
    unroll: int
    final_only: bool
    hoist_input: bool


def _gated(kind, params, xs, state0, options, *, final_only):
    """Check the arguments and run an LSTM or GRU: ``(hs [B, T, H] or None with final_only, final
    state)``; states are tuples, ``(h, c)`` or ``(h,)``."""
    extra = ("b_hn",) if kind == "gru" else ()
    hidden_size = check_params(params, GATES[kind], extra=extra)
    xs = check_xs(xs, "xs", "(batch, time, features)")
    check_input_size(xs, params["w_ih"])
    batch_size, seq_len, input_size = xs.shape
    hoist = options.hoist_input
    if hoist is None:
        hoist = hoists_input_projection(input_size, batch_size, seq_len, hidden_size)
    loop = _GatedLoop(kind, checks.positive_int(options.unroll, "unroll"), final_only, bool(hoist))
    implementation = check_implementation(options.implementation)
    if implementation == "auto":
        implementation = "fused" if fuses_gated_backward(batch_size) else "autodiff"
    dtype = jnp.result_type(xs, *(params[name] for name in ("w_ih", "w_hh", "b", *extra)))
    parts = 2 if kind == "lstm" else 1
    state0 = initial_state(state0, parts, batch_size, hidden_size, dtype)
    b_hn = params["b_hn"] if kind == "gru" else jnp.zeros((0,), dtype)
    arrays = (params["w_ih"], params["w_hh"], params["b"], b_hn, jnp.swapaxes(xs, 0, 1), state0)
    if implementation == "autodiff":
        final, hs, _ = _gated_forward(loop, *arrays, store=False)
    elif final_only:
        return None, _gated_fused_final(loop, *arrays)
    else:
        hs, final = _gated_fused(loop, *arrays)
    return (None if final_only else jnp.swapaxes(hs, 0, 1)), final


def gated_step(
    kind: str, w_hh: jax.Array, b_hn: jax.Array, state: tuple[jax.Array, ...], px: jax.Array
) -> tuple[tuple[jax.Array, ...], jax.Array]:
    """One LSTM or GRU step from the input projection ``px``.

    Args:
      kind: ``'lstm'`` or ``'gru'``.
      w_hh: recurrent weights ``[H, kH]``.
      b_hn: a GRU's recurrent bias of the new-gate block ``[H]`` (unused for an LSTM).
      state: ``(h, c)`` for an LSTM, ``(h,)`` for a GRU, each ``[B, H]``.
      px: the step's input projection ``x @ w_ih + b`` ``[B, kH]``.

    Returns:
      ``(new state, stored)``, where ``stored`` (``[B, 6H]`` for an LSTM, ``[B, 5H]`` for a GRU)
      is everything the step's backward pass reads, one array so that the scan writes one slab
      per step: for an LSTM the activated gates ``(i, f, g, o)``, ``c_{t-1}`` and ``tanh(c_t)``;
      for a GRU ``(r, z, n)``, ``u_n + b_{hn}`` and ``h_{t-1}``.
    """
    if kind == "lstm":
        h, c = state
        z = px + h @ w_hh
        hidden = h.shape[-1]
        sig = jax.nn.sigmoid(z)
        i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
        g = jnp.tanh(z[:, 2 * hidden : 3 * hidden])
        c_next = f * c + i * g
        tanh_c = jnp.tanh(c_next)
        return (o * tanh_c, c_next), jnp.concatenate([i, f, g, o, c, tanh_c], axis=-1)
    (h,) = state
    a_r, a_z, a_n = jnp.split(px, 3, axis=-1)
    u_r, u_z, u_n = jnp.split(h @ w_hh, 3, axis=-1)
    r = jax.nn.sigmoid(a_r + u_r)
    z = jax.nn.sigmoid(a_z + u_z)
    hn = u_n + b_hn
    n = jnp.tanh(a_n + r * hn)
    return ((1 - z) * n + z * h,), jnp.concatenate([r, z, n, hn, h], axis=-1)


def _gated_forward(loop, w_ih, w_hh, b, b_hn, xs, state0, *, store):
    """Time-major forward scan: ``(final state, hs or None, stored or None)``, ``hs`` the states
    (unless ``loop.final_only``) and with ``store`` the per-step arrays of :func:`gated_step`.
    The input projection is hoisted before the loop or done in each step as
    :func:`hoists_input_projection` says."""
    inputs = project(xs, w_ih, b) if loop.hoist_input else xs

    def step(state, scanned):
        px = scanned if loop.hoist_input else project(scanned, w_ih, b)
        new_state, stored = gated_step(loop.kind, w_hh, b_hn, state, px)
        return new_state, (None if loop.final_only else new_state[0], stored if store else None)

    final, (hs, stored) = lax.scan(step, state0, inputs, unroll=loop.unroll)
    return final, hs, stored


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _gated_fused(loop, w_ih, w_hh, b, b_hn, xs, state0):
    final, hs, _ = _gated_forward(loop, w_ih, w_hh, b, b_hn, xs, state0, store=False)
    return hs, final


def _gated_fused_fwd(loop, w_ih, w_hh, b, b_hn, xs, state0):
    final, hs, stored = _gated_forward(loop, w_ih, w_hh, b, b_hn, xs, state0, store=True)
    return (hs, final), (w_ih, w_hh, b, b_hn, xs, state0, stored)


def _gated_fused_bwd(loop, residuals, cotangents):
    *primals, stored = residuals
    dhs, d_final = cotangents
    return _gated_backward(loop, tuple(primals), stored, dhs, d_final)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _gated_fused_final(loop, w_ih, w_hh, b, b_hn, xs, state0):
    return _gated_forward(loop, w_ih, w_hh, b, b_hn, xs, state0, store=False)[0]


def _gated_fused_final_fwd(loop, w_ih, w_hh, b, b_hn, xs, state0):
    final, _, stored = _gated_forward(loop, w_ih, w_hh, b, b_hn, xs, state0, store=True)
    return final, (w_ih, w_hh, b, b_hn, xs, state0, stored)


def _gated_fused_final_bwd(loop, residuals, d_final):
    *primals, stored = residuals
    return _gated_backward(loop, tuple(primals), stored, None, d_final)


def _gated_backward(loop, primals, stored, dhs, d_final):
    """The gradients of ``primals = (w_ih, w_hh, b, b_hn, xs, state0)`` of an LSTM or GRU run:
    one reverse scan over the ``stored`` arrays carrying ``dL/dh`` (and ``dL/dc``), then the
    weight gradients as single matmuls over all steps."""
    w_ih, w_hh, b, b_hn, xs, state0 = primals
    hidden = w_hh.shape[0]
    backward_step = _lstm_backward_step if loop.kind == "lstm" else _gru_backward_step

    def scan_step(carry, scanned):
        dh_out, step_stored = scanned
        dh = carry[0] if dh_out is None else carry[0] + dh_out
        (direct, *rest), (d_projected, d_recurrent) = backward_step(dh, carry[1:], step_stored)
        dh_prev = transpose_matmul(d_recurrent, w_hh)
        return (dh_prev if direct is None else dh_prev + direct, *rest), (d_projected, d_recurrent)

    d_state0, (d_projected, d_recurrent) = lax.scan(
        scan_step, d_final, (dhs, stored), reverse=True, unroll=loop.unroll
    )
    if loop.kind == "lstm":  # h_{t-1} = o_{t-1} tanh c_{t-1}, read off the previous step's slab
        h_all = stored[..., 3 * hidden : 4 * hidden] * stored[..., 5 * hidden :]
        h_prevs = jnp.concatenate([state0[0][None], h_all[:-1]])
    else:
        h_prevs = stored[..., 4 * hidden :]
    if d_projected is None:  # an LSTM: one pre-activation gradient for both products
        d_projected = d_recurrent
    dw_ih, dw_hh, db = weight_gradients(xs, h_prevs, d_projected, d_recurrent)
    db_hn = d_recurrent[..., 2 * hidden :].sum(axis=(0, 1)) if loop.kind == "gru" else jnp.zeros_like(b_hn)
    dxs = transpose_matmul(d_projected, w_ih)
    grads = (dw_ih, dw_hh, db, db_hn, dxs)
    return (*cast_like(grads, (w_ih, w_hh, b, b_hn, xs)), cast_like(d_state0, state0))


def _lstm_backward_step(dh, carried, stored):
    """One reverse LSTM step from ``dL/dh_t`` (``dh``), ``dL/dc_t`` through later steps
    (``carried``) and the step's stored slab: ``((None, dL/dc_{t-1}), (None, dz_t))``, ``dz_t``
    the pre-activation gradient, which is the gradient of both the input projection and the
    recurrent product (an LSTM sums them before its gates); ``h_{t-1}`` reaches the loss only
    through ``dz_t W_{hh}^T``."""
    (dc_later,) = carried
    i, f, g, o, c_prev, tanh_c = jnp.split(stored, 6, axis=-1)
    dc = dc_later + dh * o * (1 - tanh_c * tanh_c)
    dz = jnp.concatenate(
        [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh * tanh_c * o * (1 - o)],
        axis=-1,
    )
    return (None, dc * f), (None, dz)


def _gru_backward_step(dh, carried, stored):
    """One reverse GRU step from ``dL/dh_t`` (``dh``) and the step's stored slab: ``((the part of
    dL/dh_{t-1} through z h_{t-1},), (gradient of the projection [a_r, a_z, a_n], gradient of
    the recurrent product [u_r, u_z, u_n]))``; the rest of ``dL/dh_{t-1}`` is the latter times
    ``W_{hh}^T``."""
    del carried
    r, z, n, hn, h_prev = jnp.split(stored, 5, axis=-1)
    da_n = dh * (1 - z) * (1 - n * n)
    da_r = da_n * hn * r * (1 - r)
    da_z = dh * (h_prev - n) * z * (1 - z)
    d_projected = jnp.concatenate([da_r, da_z, da_n], axis=-1)
    d_recurrent = jnp.concatenate([da_r, da_z, da_n * r], axis=-1)
    return (dh * z,), (d_projected, d_recurrent)


_gated_fused.defvjp(_gated_fused_fwd, _gated_fused_bwd)
_gated_fused_final.defvjp(_gated_fused_final_fwd, _gated_fused_final_bwd)
