"""Thin Flax linen modules over :mod:`irnn_jax.recurrence`.

The modules only own parameters; the recurrences are the pure functions of
:mod:`irnn_jax.recurrence`, and a :class:`RecurrentLayer`'s parameters are exactly the pytree
those functions take (``{'w_ih', 'w_hh', 'b'}``, plus ``'b_hn'`` for a GRU).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from irnn_jax import checks, initializers, recurrence

CELLS = ("irnn", "rnn_relu", "rnn_tanh", "lstm", "gru")
READOUTS = ("last", "sequence")
_KIND = {"irnn": "rnn", "rnn_relu": "rnn", "rnn_tanh": "rnn", "lstm": "lstm", "gru": "gru"}


class RecurrentLayer(nn.Module):
    """One recurrent layer in one direction: ``[B, T, D] -> [B, T, H]``.

    Attributes:
      hidden_size: number of units ``H``.
      cell: ``'irnn'`` and ``'rnn_relu'`` (ReLU RNN), ``'rnn_tanh'``, ``'lstm'`` or ``'gru'``.
      recurrent_init: initialiser of ``w_hh`` (per gate block for gated cells); default
        identity, the IRNN.
      input_init: initialiser of ``w_ih`` (per gate block); default N(0, 0.001^2) as in the paper.
      bias_init: initialiser of ``b``; default zeros.
      forget_bias: added to an LSTM's forget-gate bias.
      reverse: run from the last step to the first (outputs stay in input order); with
        ``lengths``, from each sequence's last real step, so end padding is read after it.
      final_only: return only the state after reading the whole sequence, ``[B, H]`` (cheaper to
        differentiate than slicing the sequence).
      unroll: scan unroll factor.
      param_dtype: dtype of the parameters.
    """

    hidden_size: int
    cell: str = "irnn"
    recurrent_init: initializers.Initializer = initializers.identity()
    input_init: initializers.Initializer = initializers.gaussian(1e-3)
    bias_init: initializers.Initializer = initializers.zeros()
    forget_bias: float = 1.0
    reverse: bool = False
    final_only: bool = False
    unroll: int = 1
    param_dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self,
        xs: jax.Array,
        lengths: jax.Array | None = None,
        initial_state: State | None = None,
        return_state: bool = False,
    ) -> jax.Array | tuple[jax.Array, State]:
        """Return the hidden states ``[B, T, H]`` (or the final one) for inputs ``xs`` ``[B, T, D]``.

        ``lengths`` ``[B]`` marks steps ``>= lengths[b]`` as end padding (only a reversed layer
        needs it); ``initial_state`` is ``h`` (``(h, c)`` for an LSTM), zeros when ``None``; with
        ``return_state`` the state after the last step is returned too (for truncated BPTT).
        """
        kind = _KIND[checks.one_of(self.cell, CELLS, "cell")]
        if getattr(xs, "ndim", None) != 3:
            raise ValueError(f"xs must be 3-D (batch, time, features), got shape {getattr(xs, 'shape', xs)}")
        specs = recurrence.parameter_specs(
            kind,
            xs.shape[-1],
            self.hidden_size,
            recurrent_init=self.recurrent_init,
            input_init=self.input_init,
            bias_init=self.bias_init,
            forget_bias=self.forget_bias,
        )
        params = {
            name: self.param(name, init, shape, self.param_dtype) for name, (shape, init) in specs.items()
        }
        if self.reverse:
            xs = reverse_time(xs, lengths)
        if kind == "rnn":
            activation = "tanh" if self.cell == "rnn_tanh" else "relu"
            # ReLU layers sow the fraction of active units for the training log (read with
            # apply(..., mutable=["intermediates"])), counted inside the recurrence's loop.
            options = {"activation": activation, "unroll": self.unroll, "return_active_fraction": True}
            if self.final_only and not return_state:
                final_state, active = recurrence.rnn_final(params, xs, initial_state, **options)
                if activation == "relu":
                    self.sow("intermediates", "active_fraction", active)
                return final_state
            hs, active = recurrence.rnn(params, xs, initial_state, **options)
            final_state = hs[:, -1]
            if activation == "relu":
                self.sow("intermediates", "active_fraction", active)
        else:
            hs, final_state = getattr(recurrence, kind)(
                params, xs, initial_state, unroll=self.unroll, return_state=True
            )
        if self.final_only:
            outputs = final_state[0] if kind == "lstm" else final_state
        else:
            outputs = reverse_time(hs, lengths) if self.reverse else hs
        return (outputs, final_state) if return_state else outputs


State = jax.Array | tuple[jax.Array, jax.Array]


def reverse_time(xs: jax.Array, lengths: jax.Array | None = None) -> jax.Array:
    """Reverse ``xs`` ``[B, T, ...]`` in time; with ``lengths``, only each sequence's first
    ``lengths[b]`` steps, the end padding staying in place (its own inverse)."""
    if lengths is None:
        return jnp.flip(xs, axis=1)
    steps = jnp.arange(xs.shape[1])[None, :]
    lengths = jnp.asarray(lengths)[:, None]
    order = jnp.where(steps < lengths, lengths - 1 - steps, steps)
    return jnp.take_along_axis(xs, order.reshape(order.shape + (1,) * (xs.ndim - 2)), axis=1)


class RecurrentStack(nn.Module):
    """``layers`` recurrent layers, each optionally bidirectional: ``[B, T, D] -> [B, T, H']``.

    A bidirectional layer concatenates its forward and backward states (``H' = 2H``) and feeds
    them to the next layer. Every layer draws its own parameters from the same initialisers.

    Attributes:
      hidden_size, cell, recurrent_init, input_init, bias_init, forget_bias, unroll: as in
        :class:`RecurrentLayer`.
      layers: number of stacked layers (>= 1).
      bidirectional: add a reversed-time layer beside each forward one.
      final_only: the last layer returns only its final state(s), ``[B, H']``.
    """

    hidden_size: int
    cell: str = "irnn"
    layers: int = 1
    bidirectional: bool = False
    recurrent_init: initializers.Initializer = initializers.identity()
    input_init: initializers.Initializer = initializers.gaussian(1e-3)
    bias_init: initializers.Initializer = initializers.zeros()
    forget_bias: float = 1.0
    final_only: bool = False
    unroll: int = 1

    @nn.compact
    def __call__(
        self,
        xs: jax.Array,
        lengths: jax.Array | None = None,
        initial_state: tuple[State, ...] | None = None,
        return_state: bool = False,
    ) -> jax.Array | tuple[jax.Array, tuple[State, ...]]:
        """Return the last layer's states, ``[B, T, H]`` (``[B, T, 2H]`` if bidirectional).

        ``lengths`` as in :class:`RecurrentLayer`. ``initial_state`` and, with ``return_state``,
        the returned final state hold one entry per layer (unidirectional stacks only: a
        reversed layer has no state to carry into the next window).
        """
        checks.positive_int(self.layers, "layers")
        if (initial_state is not None or return_state) and self.bidirectional:
            raise ValueError(
                "a bidirectional stack cannot carry state across windows; use bidirectional=False"
            )
        if initial_state is not None and len(initial_state) != self.layers:
            raise ValueError(
                f"initial_state must have one entry per layer ({self.layers}), got {len(initial_state)}"
            )
        directions = (False, True) if self.bidirectional else (False,)
        final_states = []
        for index in range(self.layers):
            outputs = [
                RecurrentLayer(
                    self.hidden_size,
                    cell=self.cell,
                    recurrent_init=self.recurrent_init,
                    input_init=self.input_init,
                    bias_init=self.bias_init,
                    forget_bias=self.forget_bias,
                    reverse=reverse,
                    final_only=self.final_only and index == self.layers - 1,
                    unroll=self.unroll,
                    name=f"layer_{index}" + ("_reverse" if reverse else ""),
                )(
                    xs,
                    lengths,
                    None if initial_state is None else initial_state[index],
                    return_state=return_state,
                )
                for reverse in directions
            ]
            if return_state:
                ((xs, final_state),) = outputs
                final_states.append(final_state)
            else:
                xs = jnp.concatenate(outputs, axis=-1) if self.bidirectional else outputs[0]
        return (xs, tuple(final_states)) if return_state else xs


class RNNModel(nn.Module):
    """An optional token embedding, a :class:`RecurrentStack`, an optional linear projection,
    and a linear readout.

    With ``readout='last'`` the readout sees the final state (the forward direction's last real
    step and, if bidirectional, the backward direction's state after reading the whole
    sequence) and gives ``[B, output_size]``; with ``readout='sequence'`` it sees every step and
    gives ``[B, T, output_size]``. Regression outputs or classification logits: the task's loss
    decides.

    Attributes:
      hidden_size, cell, layers, bidirectional, recurrent_init, input_init, bias_init,
        forget_bias, unroll: as in :class:`RecurrentStack`.
      output_size: readout width (1 for the adding problem, 10 for MNIST, the vocabulary for LM).
      vocab_size: if > 0, inputs are token ids ``[B, T]`` in ``[0, vocab_size)``, embedded into
        ``embed_size`` features by a table drawn from ``embed_init``; if 0, inputs are features.
      projection_size: if > 0, a linear layer of this width before the readout (the paper's
        1024-unit LM with a 512 projection).
      readout: ``'last'`` or ``'sequence'``.
      output_init: initialiser of the readout (and projection) kernel; default N(0, 0.001^2).
    """

    hidden_size: int
    output_size: int
    cell: str = "irnn"
    layers: int = 1
    bidirectional: bool = False
    projection_size: int = 0
    readout: str = "last"
    recurrent_init: initializers.Initializer = initializers.identity()
    input_init: initializers.Initializer = initializers.gaussian(1e-3)
    bias_init: initializers.Initializer = initializers.zeros()
    output_init: initializers.Initializer = initializers.gaussian(1e-3)
    forget_bias: float = 1.0
    unroll: int = 1
    vocab_size: int = 0
    embed_size: int = 0
    embed_init: initializers.Initializer = initializers.gaussian(0.1)

    @nn.compact
    def __call__(
        self,
        xs: jax.Array,
        lengths: jax.Array | None = None,
        initial_state: tuple[State, ...] | None = None,
        return_state: bool = False,
    ) -> jax.Array | tuple[jax.Array, tuple[State, ...]]:
        """Return the readout: ``[B, output_size]`` or ``[B, T, output_size]``.

        ``lengths`` ``[B]``: steps ``>= lengths[b]`` are end padding, never read by the
        ``'last'`` readout or before a sequence's real steps. ``initial_state`` /
        ``return_state``: the per-layer recurrent state carried between windows of one long
        sequence (truncated BPTT), as in :class:`RecurrentStack`.
        """
        checks.one_of(self.readout, READOUTS, "readout")
        if self.vocab_size:
            xs = nn.Embed(self.vocab_size, self.embed_size, embedding_init=self.embed_init, name="embed")(xs)
        # A last-state readout of full sequences needs only the final states: the stack's last
        # layer then runs rnn_final, whose backward pass reads no [T, B, H] cotangent.
        final_only = self.readout == "last" and lengths is None and not return_state
        hs = RecurrentStack(
            self.hidden_size,
            cell=self.cell,
            layers=self.layers,
            bidirectional=self.bidirectional,
            recurrent_init=self.recurrent_init,
            input_init=self.input_init,
            bias_init=self.bias_init,
            forget_bias=self.forget_bias,
            final_only=final_only,
            unroll=self.unroll,
            name="rnn",
        )(xs, lengths, initial_state, return_state)
        if return_state:
            hs, final_state = hs
        if self.readout == "last" and not final_only:
            hs = self._last(hs, lengths)
        if self.projection_size:
            hs = nn.Dense(self.projection_size, kernel_init=self.output_init, name="projection")(hs)
        outputs = nn.Dense(self.output_size, kernel_init=self.output_init, name="readout")(hs)
        return (outputs, final_state) if return_state else outputs

    def _last(self, hs: jax.Array, lengths: jax.Array | None) -> jax.Array:
        """The forward states at each sequence's last real step, and the backward states at step 0."""
        if lengths is None:
            last = hs[:, -1, : self.hidden_size]
        else:
            last = jnp.take_along_axis(hs, (jnp.asarray(lengths) - 1)[:, None, None], axis=1)[:, 0]
            last = last[:, : self.hidden_size]
        return jnp.concatenate([last, hs[:, 0, self.hidden_size :]], axis=-1) if self.bidirectional else last


def from_config(model_config: Mapping[str, Any], output_size: int, vocab_size: int = 0) -> RNNModel:
    """Build an :class:`RNNModel` from a config's ``model`` section.

    The section has every :class:`RNNModel` attribute but ``output_size`` and ``vocab_size``,
    which the task sets. Initialisers are given as ``{'name': ..., **kwargs}`` and resolved by
    :func:`irnn_jax.initializers.get`, e.g. ``{'name': 'identity', 'gain': 1.0}``.
    """
    inits = {
        field: initializers.get(**dict(model_config[field]))
        for field in ("recurrent_init", "input_init", "bias_init", "output_init", "embed_init")
    }
    embed_size = model_config["embed_size"]
    if vocab_size:
        checks.positive_int(embed_size, "model.embed_size (the task's inputs are token ids)")
    elif embed_size != 0:
        raise ValueError(
            f"model.embed_size must be 0: the task's inputs are features, not token ids; got {embed_size!r}"
        )
    projection_size = model_config["projection_size"]
    if projection_size != 0:
        checks.positive_int(projection_size, "model.projection_size")
    if not isinstance(model_config["bidirectional"], bool):
        raise TypeError(f"model.bidirectional must be True or False, got {model_config['bidirectional']!r}")
    return RNNModel(
        hidden_size=checks.positive_int(model_config["hidden_size"], "model.hidden_size"),
        output_size=output_size,
        cell=checks.one_of(model_config["cell"], CELLS, "cell"),
        layers=checks.positive_int(model_config["layers"], "model.layers"),
        bidirectional=model_config["bidirectional"],
        projection_size=projection_size,
        readout=checks.one_of(model_config["readout"], READOUTS, "readout"),
        forget_bias=checks.finite_number(model_config["forget_bias"], "model.forget_bias"),
        unroll=checks.positive_int(model_config["unroll"], "model.unroll"),
        vocab_size=vocab_size,
        embed_size=embed_size,
        **inits,
    )
