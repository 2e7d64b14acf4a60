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
scan with ``jax.grad`` and is the reference the fused path is tested against. :func:`rnn_final`
returns only ``h_T`` and has its own, cheaper, fused backward (what a last-state readout needs).

:func:`lstm` and :func:`gru` use the same convention with gate blocks side by side along the
last axis (PyTorch's gate order). They too have a fused custom VJP: the forward scan stores one
slab per step (the activated gates and what else the step's derivative reads), the backward is
one reverse scan whose only matmul is the recurrent one, and the weight gradients are single
matmuls after it; it is their default at the batch sizes where it measured faster.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Literal, TypedDict, Unpack

import jax
import jax.numpy as jnp
from jax import lax

from irnn_jax.core import checks, initializers

Params = dict[str, jax.Array]
ACTIVATIONS = ("relu", "tanh")
IMPLEMENTATIONS = ("fused", "autodiff")
GATED_FUSED_MAX_BATCH = 32  # see fuses_gated_backward
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


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
    return _init_params("rnn", key, input_size, hidden_size, dtype, (recurrent_init, input_init, bias_init))


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
    ``forget_bias`` added; a GRU has the extra candidate bias ``b_hn`` (zeros).
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
    return specs


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


class RNNOptions(TypedDict, total=False):
    """Keyword options of :func:`rnn`, :func:`rnn_time_major` and :func:`rnn_final`.

    Attributes:
      activation: ``'relu'`` (default) or ``'tanh'``.
      unroll: ``lax.scan`` unroll factor of the forward and backward loops (default 1).
      implementation: ``'fused'`` (default: the custom VJP, the fast path) or ``'autodiff'``
        (the plain scan, differentiated by JAX).
      hoist_input: compute ``xs @ w_ih + b`` as one matmul before the loop (True) or inside
        each step (False); ``None`` (default) picks per shape (:func:`hoists_input_projection`).
      return_active_fraction: also return the fraction of positive entries of the states
        (active ReLUs), counted inside the loop, where the states are in cache (a reduction
        over the stored states afterwards costs far more at large batch sizes); not
        differentiated.
      probes: an array shaped like the states (``[B, T, H]``, time-major ``[T, B, H]`` for
        :func:`rnn_time_major`) added to each state inside the loop,
        ``h_t = act(...) + e_t``, so that the gradient with respect to ``e_t`` at zero is the
        total derivative ``dL/dh_t`` through all later steps (:mod:`irnn_jax.models.diagnostics`).
        Runs the plain scan, differentiated by JAX.
    """

    activation: Literal["relu", "tanh"]
    unroll: int
    implementation: Literal["fused", "autodiff"]
    hoist_input: bool | None
    return_active_fraction: bool
    probes: jax.Array | None


def rnn(
    params: Params, xs: jax.Array, h0: jax.Array | None = None, **options: Unpack[RNNOptions]
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """Run a ReLU or tanh RNN over a batch of sequences.

    Args:
      params: ``{'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``.
      xs: inputs, batch-major ``[B, T, D]``, floating point.
      h0: initial state ``[B, H]``; zeros when ``None``.
      **options: see :class:`RNNOptions`.

    Returns:
      ``hs`` of shape ``[B, T, H]``: the state after each step (and the fraction of active
      units, with ``return_active_fraction``).
    """
    xs = jnp.swapaxes(_check_xs(xs, "xs", "(batch, time, features)"), 0, 1)
    if options.get("probes") is not None:
        options = {**options, "probes": jnp.swapaxes(options["probes"], 0, 1)}
    hs, active = _run(params, xs, h0, options, final_only=False)
    hs = jnp.swapaxes(hs, 0, 1)
    return (hs, active) if options.get("return_active_fraction") else hs


def rnn_time_major(
    params: Params, xs: jax.Array, h0: jax.Array | None = None, **options: Unpack[RNNOptions]
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """:func:`rnn` on time-major inputs ``[T, B, D]``, returning ``[T, B, H]`` (no transposes)."""
    hs, active = _run(params, _check_xs(xs, "xs", "(time, batch, features)"), h0, options, final_only=False)
    return (hs, active) if options.get("return_active_fraction") else hs


def rnn_final(
    params: Params, xs: jax.Array, h0: jax.Array | None = None, **options: Unpack[RNNOptions]
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """The state after the last step, ``rnn(...)[:, -1]`` (``[B, H]``), with a cheaper backward.

    What a readout of the last state needs: the fused backward reads no ``[T, B, H]`` cotangent
    (all zeros but one step) and pairs each stored state with its step's gradient without
    shifting any array. Arguments as :func:`rnn`; the active fraction is over all T states.
    """
    xs = jnp.swapaxes(_check_xs(xs, "xs", "(batch, time, features)"), 0, 1)
    if options.get("probes") is not None:
        options = {**options, "probes": jnp.swapaxes(options["probes"], 0, 1)}
    final, active = _run(params, xs, h0, options, final_only=True)
    return (final, active) if options.get("return_active_fraction") else final


@dataclasses.dataclass(frozen=True)
class _Loop:
    """The static choices of one RNN run: hashable, the fused functions' one non-differentiable
    argument."""

    activation: str
    unroll: int
    hoist_input: bool
    count_active: bool


def _run(params, xs, h0, options, *, final_only):
    """Check arguments and run the time-major recurrence: ``(states or final state, fraction of
    active units or None)``."""
    known = tuple(RNNOptions.__annotations__)
    unknown = set(options) - set(known)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)}; known: {', '.join(known)}")
    hidden_size = _check_params(params)
    w_ih, w_hh, b = params["w_ih"], params["w_hh"], params["b"]
    seq_len, batch_size, input_size = xs.shape
    _check_input_size(xs, w_ih)
    implementation = checks.one_of(options.get("implementation", "fused"), IMPLEMENTATIONS, "implementation")
    hoist_input = options.get("hoist_input")
    if hoist_input is None:
        hoist_input = hoists_input_projection(input_size, batch_size, seq_len, hidden_size)
    loop = _Loop(
        activation=checks.one_of(options.get("activation", "relu"), ACTIVATIONS, "activation"),
        unroll=checks.positive_int(options.get("unroll", 1), "unroll"),
        hoist_input=bool(hoist_input),
        count_active=bool(options.get("return_active_fraction", False)),
    )
    dtype = jnp.result_type(xs, w_ih, w_hh, b)
    (h0,) = _initial_state(None if h0 is None else (h0,), 1, batch_size, hidden_size, dtype)
    probes = options.get("probes")
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


def hoists_input_projection(input_size: int, batch_size: int, seq_len: int, hidden_size: int) -> bool:
    """Whether the default path computes ``xs @ w_ih + b`` before the loop for this shape.

    For a scalar input the in-loop product is a cheap broadcast multiply, while hoisting adds a
    ``[T, B, H]`` array to memory traffic; for wider inputs one large matmul beats T small ones.
    """
    del batch_size, seq_len, hidden_size
    return input_size > 1


def fuses_gated_backward(batch_size: int) -> bool:
    """Whether an LSTM or GRU of this batch size takes the fused backward pass by default.

    The fused pass stores the activated gates of every step so that its backward does no
    transcendental; at small batches that saves the time, at large ones the larger residuals
    cost more memory traffic than they save. ``benchmarks/train_step.py --cells lstm gru``
    (``benchmarks/results/train_step-20261201T201122Z.json``) measured the fused pass 1.37x
    (LSTM) and 1.04x (GRU) faster than autodiff at B=16, T=784, and 0.88x and 0.83x at B=128
    (the crossover in between was not measured).
    """
    return batch_size <= GATED_FUSED_MAX_BATCH


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
    candidate, which sits inside the reset gate's product (see :func:`gru`)."""
    return _init_params("gru", key, input_size, hidden_size, dtype, (recurrent_init, input_init, bias_init))


def lstm(
    params: Params,
    xs: jax.Array,
    h0: tuple[jax.Array, jax.Array] | None = None,
    *,
    unroll: int = 1,
    return_state: bool = False,
    implementation: Literal["auto", "fused", "autodiff"] = "auto",
) -> jax.Array | tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    r"""Run an LSTM over batch-major ``xs`` ``[B, T, D]``; return ``hs`` ``[B, T, H]``.

    With ``z_t = x_t W_{ih} + b + h_{t-1} W_{hh}`` split into (i, f, g, o):
    ``c_t = \sigma(f) c_{t-1} + \sigma(i) \tanh(g)``, ``h_t = \sigma(o) \tanh(c_t)``. The input
    projection ``xs @ w_ih + b`` is one matmul before the loop, or for a scalar input a product
    in each step (:func:`hoists_input_projection`). The fused backward pass is one reverse scan
    over the stored activated gates and cell states, whose only matmul is ``dz_t W_{hh}^\top``,
    with the weight gradients as single matmuls after it; by default (``'auto'``) it runs at the
    batch sizes where it measured faster than JAX's autodiff of the plain scan
    (:func:`fuses_gated_backward`).

    Args:
      params: see :func:`init_lstm`.
      xs: inputs ``[B, T, D]``.
      h0: initial ``(h, c)``, each ``[B, H]``; zeros when ``None``.
      unroll: scan unroll factor.
      return_state: also return the final ``(h, c)`` (to carry across truncated BPTT windows).
      implementation: ``'autodiff'`` (the plain scan, differentiated by JAX), ``'fused'``
        (the custom VJP, tested equal to it) or ``'auto'``, the faster of the two for the
        batch size.
    """
    return _gated("lstm", params, xs, h0, unroll, implementation, final_only=False, return_state=return_state)


def lstm_final(
    params: Params,
    xs: jax.Array,
    h0: tuple[jax.Array, jax.Array] | None = None,
    *,
    unroll: int = 1,
    implementation: Literal["auto", "fused", "autodiff"] = "auto",
) -> tuple[jax.Array, jax.Array]:
    """The final ``(h, c)`` of :func:`lstm` (``[B, H]`` each): what a last-state readout needs.
    Its fused backward pass reads no ``[T, B, H]`` cotangent of the states."""
    return _gated("lstm", params, xs, h0, unroll, implementation, final_only=True, return_state=False)


def gru(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    unroll: int = 1,
    return_state: bool = False,
    implementation: Literal["auto", "fused", "autodiff"] = "auto",
) -> jax.Array | tuple[jax.Array, jax.Array]:
    r"""Run a GRU over batch-major ``xs`` ``[B, T, D]``; return ``hs`` ``[B, T, H]``.

    With ``x_t W_{ih} + b`` split into (a_r, a_z, a_n) and ``h_{t-1} W_{hh}`` into (u_r, u_z, u_n):
    ``r = \sigma(a_r + u_r)``, ``z = \sigma(a_z + u_z)``, ``n = \tanh(a_n + r (u_n + b_{hn}))``,
    ``h_t = (1 - z) n + z h_{t-1}`` (PyTorch's and Flax's GRU). The input projection is placed
    as for :func:`lstm`. The fused backward pass is one reverse scan over the stored gates,
    whose only matmul is the gradient of ``u_t`` times ``W_{hh}^\top``, with the weight
    gradients as single matmuls after it; ``'auto'`` picks it as for :func:`lstm`.

    Args:
      params: see :func:`init_gru`.
      xs: inputs ``[B, T, D]``.
      h0: initial state ``[B, H]``; zeros when ``None``.
      unroll: scan unroll factor.
      return_state: also return the final state.
      implementation: ``'autodiff'`` (the plain scan), ``'fused'`` (the custom VJP) or
        ``'auto'``, the faster of the two for the batch size.
    """
    state0 = None if h0 is None else (h0,)
    result = _gated(
        "gru", params, xs, state0, unroll, implementation, final_only=False, return_state=return_state
    )
    return (result[0], result[1][0]) if return_state else result


def gru_final(
    params: Params,
    xs: jax.Array,
    h0: jax.Array | None = None,
    *,
    unroll: int = 1,
    implementation: Literal["auto", "fused", "autodiff"] = "auto",
) -> jax.Array:
    """The final state of :func:`gru` (``[B, H]``), as :func:`lstm_final`."""
    state0 = None if h0 is None else (h0,)
    return _gated("gru", params, xs, state0, unroll, implementation, final_only=True, return_state=False)[0]


@dataclasses.dataclass(frozen=True)
class _GatedLoop:
    """The static choices of one LSTM or GRU run (the fused functions' non-differentiable argument)."""

    kind: str
    unroll: int
    final_only: bool
    hoist_input: bool


def _gated(kind, params, xs, state0, unroll, implementation, *, final_only, return_state):
    """Check arguments and run an LSTM or GRU: ``hs`` (``[B, T, H]``), ``(hs, final state)`` with
    ``return_state``, or with ``final_only`` the final state; states are tuples, ``(h, c)`` or
    ``(h,)``."""
    extra = ("b_hn",) if kind == "gru" else ()
    hidden_size = _check_params(params, GATES[kind], extra=extra)
    xs = _check_xs(xs, "xs", "(batch, time, features)")
    _check_input_size(xs, params["w_ih"])
    batch_size, seq_len, input_size = xs.shape
    hoist = hoists_input_projection(input_size, batch_size, seq_len, hidden_size)
    loop = _GatedLoop(kind, checks.positive_int(unroll, "unroll"), final_only, hoist)
    checks.one_of(implementation, (*IMPLEMENTATIONS, "auto"), "implementation")
    if implementation == "auto":
        implementation = "fused" if fuses_gated_backward(batch_size) else "autodiff"
    dtype = jnp.result_type(xs, params["w_ih"])
    parts = 2 if kind == "lstm" else 1
    state0 = _initial_state(state0, parts, xs.shape[0], hidden_size, dtype)
    b_hn = params["b_hn"] if kind == "gru" else jnp.zeros((0,), dtype)
    arrays = (params["w_ih"], params["w_hh"], params["b"], b_hn, jnp.swapaxes(xs, 0, 1), state0)
    if implementation == "autodiff":
        final, hs, _ = _gated_forward(loop, *arrays, store=False)
    elif final_only:
        return _gated_fused_final(loop, *arrays)
    else:
        hs, final = _gated_fused(loop, *arrays)
    if final_only:
        return final
    hs = jnp.swapaxes(hs, 0, 1)
    return (hs, final) if return_state else hs


def _project(x, w_ih, b):
    """The input projection ``x @ w_ih + b``, a broadcast product for a scalar input."""
    return x * w_ih[0] + b if w_ih.shape[0] == 1 else x @ w_ih + b


def _gated_step(kind, w_hh, b_hn, state, px):
    """One LSTM or GRU step from the input projection ``px``: ``(new state, stored)``, where
    ``stored`` (``[B, 6H]`` for an LSTM, ``[B, 5H]`` for a GRU) is everything the step's backward
    pass reads, one array so that the scan writes one slab per step: for an LSTM the activated
    gates ``(i, f, g, o)``, ``c_{t-1}`` and ``tanh(c_t)``; for a GRU ``(r, z, n)``,
    ``u_n + b_{hn}`` and ``h_{t-1}``."""
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
    (unless ``loop.final_only``) and with ``store`` the per-step arrays of :func:`_gated_step`.
    The input projection is hoisted before the loop or done in each step as
    :func:`hoists_input_projection` says."""
    inputs = _project(xs, w_ih, b) if loop.hoist_input else xs

    def step(state, scanned):
        px = scanned if loop.hoist_input else _project(scanned, w_ih, b)
        new_state, stored = _gated_step(loop.kind, w_hh, b_hn, state, px)
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
        dh_prev = _transpose_matmul(d_recurrent, w_hh)
        return (dh_prev if direct is None else dh_prev + direct, *rest), (d_projected, d_recurrent)

    d_state0, (d_projected, d_recurrent) = lax.scan(
        scan_step, d_final, (dhs, stored), reverse=True, unroll=loop.unroll
    )
    if d_projected is None:  # an LSTM: one pre-activation gradient for both products
        d_projected = d_recurrent
    if loop.kind == "lstm":  # h_{t-1} = o_{t-1} tanh c_{t-1}, read off the previous step's slab
        h_all = stored[..., 3 * hidden : 4 * hidden] * stored[..., 5 * hidden :]
        h_prevs = jnp.concatenate([state0[0][None], h_all[:-1]])
    else:
        h_prevs = stored[..., 4 * hidden :]
    rows = xs.shape[0] * xs.shape[1]
    d_projected_rows = d_projected.reshape(rows, -1)
    d_recurrent_rows = d_recurrent.reshape(rows, -1)
    dw_ih = xs.reshape(rows, -1).T @ d_projected_rows
    dw_hh = h_prevs.reshape(rows, -1).T @ d_recurrent_rows
    db = d_projected_rows.sum(axis=0)
    db_hn = d_recurrent_rows[:, 2 * hidden :].sum(axis=0) if loop.kind == "gru" else jnp.zeros_like(b_hn)
    dxs = _transpose_matmul(d_projected, w_ih)
    grads = (dw_ih, dw_hh, db, db_hn, dxs)
    return (*_cast_like(grads, (w_ih, w_hh, b, b_hn, xs)), _cast_like(d_state0, state0))


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


def _initial_state(state, parts, batch_size, hidden_size, dtype):
    """A tuple of ``parts`` states ``[B, H]`` (zeros for ``None``), each shape-checked."""
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


def _check_input_size(xs: jax.Array, w_ih: jax.Array) -> None:
    if xs.shape[-1] != w_ih.shape[0]:
        raise ValueError(
            f"xs has input size {xs.shape[-1]} but params['w_ih'] expects {w_ih.shape[0]} "
            f"(w_ih shape {w_ih.shape})"
        )


def _check_params(params: Params, num_gates: int = 1, extra: tuple[str, ...] = ()) -> int:
    """Check ``w_ih [D, G*H]``, ``w_hh [H, G*H]``, ``b [G*H]`` (+ ``extra`` ``[H]``); return H."""
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


def _activation_fn(activation: str) -> Callable[[jax.Array], jax.Array]:
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
    act = _activation_fn(loop.activation)
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


def _transpose_matmul(a, w):
    """``a @ w.T`` without materialising the transpose."""
    return lax.dot_general(a, w, (((a.ndim - 1,), (1,)), ((), ())))


def _weight_gradients(xs, states, gs):
    """``(dw_ih, dw_hh, db)`` as single GEMMs over ``[T*B, .]`` rows: ``gs[t]`` is the gradient
    of the pre-activation at a step whose input was ``xs[t]`` and previous state ``states[t]``."""
    rows = gs.shape[0] * gs.shape[1]
    gs_rows = gs.reshape(rows, -1)
    dw_ih = xs.reshape(rows, -1).T @ gs_rows
    dw_hh = states.reshape(rows, -1).T @ gs_rows
    return dw_ih, dw_hh, gs_rows.sum(axis=0)


def _cast_like(grads, primals):
    return tuple(grad.astype(primal.dtype) for grad, primal in zip(grads, primals, strict=True))


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
        g_t = _gate_by_derivative(loop.activation, h_t, dh_t + _transpose_matmul(g_next, w_hh))
        return g_t, g_next

    # The scan emits g_{t+1} at step t (zero at t = T-1) and ends with g_0, so h_t pairs with
    # g_{t+1} and x_{t+1} row by row; only the small xs is shifted, never a [T, B, H] array.
    g_0, gs_next = lax.scan(step, jnp.zeros_like(h0), (dhs, hs), reverse=True, unroll=loop.unroll)
    xs_next = jnp.concatenate([xs[1:], jnp.zeros_like(xs[:1])])
    dw_ih, dw_hh, db = _weight_gradients(xs_next, hs, gs_next)
    dw_ih += xs[0].T @ g_0
    dw_hh += h0.T @ g_0
    db += g_0.sum(axis=0)
    dxs = jnp.concatenate([_transpose_matmul(g_0, w_ih)[None], _transpose_matmul(gs_next[:-1], w_ih)])
    dh0 = _transpose_matmul(g_0, w_hh)
    return _cast_like((dw_ih, dw_hh, db, dxs, dh0), (w_ih, w_hh, b, xs, h0))


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
        return (_transpose_matmul(g_t, w_hh), h_prev), g_t

    # Carrying h_t from the step before lets step t read only h_{t-1}, the state that
    # multiplied w_hh at step t: gs and previous_states pair row by row with no shift.
    (dh0, _), gs = lax.scan(step, (d_final, final), previous_states, reverse=True, unroll=loop.unroll)
    dw_ih, dw_hh, db = _weight_gradients(xs, previous_states, gs)
    dxs = _transpose_matmul(gs, w_ih)
    return _cast_like((dw_ih, dw_hh, db, dxs, dh0), (w_ih, w_hh, b, xs, h0))


_fused.defvjp(_fused_fwd, _fused_bwd)
_fused_final.defvjp(_fused_final_fwd, _fused_final_bwd)
