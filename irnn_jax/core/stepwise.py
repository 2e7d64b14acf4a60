"""The recurrences one step at a time: :func:`step` (what a decoder feeding back its own output
runs) and :func:`scan_lengths` (a batch of sequences of different lengths, each state frozen
after its sequence's last real step: what an encoder of padded sentences runs).

The parameters and the row-vector convention are those of :mod:`irnn_jax.core.recurrence`;
``kind`` is the recurrence's name, ``'rnn'``, ``'lstm'`` or ``'gru'``. States are tuples here,
``(h, c)`` for an LSTM and ``(h,)`` otherwise. Both are plain JAX (differentiated by autodiff, in
every mode), not the fused implementations of the full-sequence recurrences.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from irnn_jax.core import checks
from irnn_jax.core.gated import gated_step
from irnn_jax.core.parameters import GATES, Params, check_input_size, check_params, check_xs, initial_state
from irnn_jax.core.products import project
from irnn_jax.core.simple import ACTIVATIONS, activation_fn

KINDS = tuple(GATES)
State = tuple[jax.Array, ...]


def step(kind: str, params: Params, state: State, x: jax.Array, activation: str = "relu") -> State:
    """One step of the recurrence ``kind`` from ``state`` on the inputs ``x``.

    Args:
      kind: ``'rnn'``, ``'lstm'`` or ``'gru'``.
      params: the cell's parameters (as :func:`irnn_jax.core.recurrence.init_rnn`,
        ``init_lstm`` or ``init_gru`` make them).
      state: ``(h, c)`` for an LSTM, else ``(h,)``, each ``[B, H]``.
      x: the step's inputs ``[B, D]``.
      activation: ``'relu'`` or ``'tanh'`` (the ``'rnn'`` kind only).

    Returns:
      The next state, a tuple like ``state``.
    """
    px = project(x, params["w_ih"], params["b"])
    if kind == "rnn":
        (h,) = state
        return (activation_fn(activation)(px + h @ params["w_hh"]).astype(h.dtype),)
    b_hn = params["b_hn"] if kind == "gru" else None
    return gated_step(kind, params["w_hh"], b_hn, state, px)[0]


def scan_lengths(
    kind: str,
    params: Params,
    xs: jax.Array,
    lengths: jax.Array,
    state0: State | None = None,
    activation: str = "relu",
    unroll: int = 1,
) -> tuple[jax.Array, State]:
    """The recurrence over padded sequences: sequence ``b`` reads its first ``lengths[b]`` steps,
    and its state stays as it was after them through the padding.

    Args:
      kind: ``'rnn'``, ``'lstm'`` or ``'gru'``.
      params: the cell's parameters.
      xs: inputs ``[B, T, D]``, sequence ``b``'s real steps first.
      lengths: ``[B]`` ints in ``[0, T]``, each sequence's real steps.
      state0: the initial state (a tuple, as :func:`step` takes it), or ``None`` for zeros.
      activation: ``'relu'`` or ``'tanh'`` (the ``'rnn'`` kind only).
      unroll: the scan's unroll factor.

    Returns:
      ``(hs, final state)``: ``hs`` ``[B, T, H]``, the ``h`` of each step (past a sequence's end,
      its last real step's ``h``; before any real step, ``state0``'s), and the state after each
      sequence's last real step, a tuple like ``state0``.

    Raises:
      ValueError: for an unknown ``kind`` or ``activation``, parameters or inputs of the wrong
        shape, or ``lengths`` not ``[B]``.
    """
    checks.one_of(kind, KINDS, "kind")
    checks.one_of(activation, ACTIVATIONS, "activation")
    hidden_size = check_params(params, GATES[kind], extra=("b_hn",) if kind == "gru" else ())
    xs = check_xs(xs, "xs", "(batch, time, features)")
    check_input_size(xs, params["w_ih"])
    batch_size = xs.shape[0]
    if jnp.shape(lengths) != (batch_size,):
        raise ValueError(f"lengths must be [batch] = ({batch_size},), got shape {jnp.shape(lengths)}")
    dtype = jnp.result_type(xs, params["w_ih"], params["w_hh"], params["b"])
    state0 = initial_state(state0, 2 if kind == "lstm" else 1, batch_size, hidden_size, dtype)

    def advance(state: State, scanned: tuple[jax.Array, jax.Array]) -> tuple[State, jax.Array]:
        x, t = scanned
        real = (t < lengths)[:, None]
        state = tuple(
            jnp.where(real, new, old)
            for new, old in zip(step(kind, params, state, x, activation), state, strict=True)
        )
        return state, state[0]

    steps = jnp.arange(xs.shape[1])
    final, hs = lax.scan(advance, state0, (jnp.swapaxes(xs, 0, 1), steps), unroll=unroll)
    return jnp.swapaxes(hs, 0, 1), final
