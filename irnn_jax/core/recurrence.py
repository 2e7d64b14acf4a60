r"""Pure recurrences under ``jax.lax.scan``: the public API, one import for a researcher.

Row-vector convention (as Flax's ``Dense``): for a batch of states ``h`` of shape ``[B, H]``

.. math::  h_t = \mathrm{act}(x_t W_{ih} + h_{t-1} W_{hh} + b)

with ``params = {'w_ih': [D, H], 'w_hh': [H, H], 'b': [H]}``. A paper's column-form recurrent
matrix ``W`` (``W h``) is ``w_hh.T``. :func:`lstm` and :func:`gru` use the same convention with
gate blocks side by side along the last axis (PyTorch's gate order).

One API for the three cells: ``rnn``, ``lstm`` and ``gru`` take ``(params, xs [B, T, D],
h0=None)`` and the keywords ``unroll``, ``implementation`` (``'auto'``, ``'fused'``,
``'autodiff'``; default ``'auto'``), ``hoist_input`` and ``return_state``, and return ``hs``
``[B, T, H]``, or ``(hs, final state)`` with ``return_state``; ``rnn_final``, ``lstm_final`` and
``gru_final`` return only the final state, with a cheaper backward pass (what a last-state
readout needs). ``rnn`` also takes ``activation`` and ``probes``.

One step at a time (:mod:`irnn_jax.core.stepwise`): ``step(kind, params, state, x)``, and
``scan_lengths``, a recurrence over padded sequences of different lengths whose final state is
each sequence's after its last real step.

The fused implementations are ``jax.custom_vjp`` functions, so they support reverse-mode
differentiation only (``jax.grad``, ``jax.vjp``, ``jax.jacrev``); forward mode (``jax.jvp``,
``jax.jacfwd``) needs ``implementation='autodiff'`` (``model.implementation`` on the models).

Where each part lives: :mod:`irnn_jax.core.parameters` (parameters and their checks),
:mod:`irnn_jax.core.simple` (ReLU/tanh and its fused backward pass),
:mod:`irnn_jax.core.gated` (LSTM/GRU and theirs), :mod:`irnn_jax.core.products` (the products
both share).
"""

from irnn_jax.core.gated import GATED_FUSED_MAX_BATCH, fuses_gated_backward, gru, gru_final, lstm, lstm_final
from irnn_jax.core.parameters import (
    GATES,
    IMPLEMENTATIONS,
    Params,
    State,
    init_gru,
    init_lstm,
    init_rnn,
    parameter_specs,
)
from irnn_jax.core.products import hoists_input_projection
from irnn_jax.core.simple import ACTIVATIONS, rnn, rnn_final, rnn_time_major
from irnn_jax.core.stepwise import scan_lengths, step

__all__ = [
    "ACTIVATIONS",
    "GATED_FUSED_MAX_BATCH",
    "GATES",
    "IMPLEMENTATIONS",
    "Params",
    "State",
    "fuses_gated_backward",
    "gru",
    "gru_final",
    "hoists_input_projection",
    "init_gru",
    "init_lstm",
    "init_rnn",
    "lstm",
    "lstm_final",
    "parameter_specs",
    "rnn",
    "rnn_final",
    "rnn_time_major",
    "scan_lengths",
    "step",
]
