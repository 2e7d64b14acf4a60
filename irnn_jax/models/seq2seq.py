"""An encoder-decoder of recurrent layers (Sutskever et al. 2014; Cho et al. 2014), for
translation: the encoder reads the source sentence, and the decoder, started from the encoder's
final state layer by layer, predicts the target sentence one token at a time.

Training reads the target with teacher forcing (:meth:`Seq2Seq.__call__`: the decoder's input at
step ``t`` is the reference token ``t - 1``); :meth:`Seq2Seq.greedy` translates, feeding back the
most likely token. Every layer is the pure recurrence of :mod:`irnn_jax.core.recurrence` on the
parameters of a :class:`CellParameters`, the same pytree as a :class:`irnn_jax.models.RecurrentLayer`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from irnn_jax.core import checks, initializers, recurrence, softmax
from irnn_jax.models import linen

State = tuple[jax.Array, ...]
READOUTS = ("sequence", "blocked")


class CellParameters(linen.LayerSpec):
    """The parameters of one recurrent layer reading ``input_size`` features, cast to ``dtype``.

    Attributes (besides :class:`irnn_jax.models.LayerSpec`'s):
      input_size: ``D``, the features each step reads.
    """

    input_size: int = 0

    @nn.compact
    def __call__(self) -> recurrence.Params:
        """The layer's parameters, drawn from the spec's initialisers on first use.

        Returns:
          ``{'w_ih': [D, kH], 'w_hh': [H, kH], 'b': [kH]}`` (plus ``'b_hn'`` for a GRU).
        """
        specs = recurrence.parameter_specs(
            linen.RECURRENCE_BY_CELL[self.cell],
            self.input_size,
            self.hidden_size,
            recurrent_init=self.recurrent_init,
            input_init=self.input_init,
            bias_init=self.bias_init,
            forget_bias=self.forget_bias,
        )
        return {
            name: self.param(name, init, shape, self.param_dtype).astype(self.dtype)
            for name, (shape, init) in specs.items()
        }


class Seq2Seq(linen.LayerSpec):
    """A source embedding and ``layers`` recurrent layers (the encoder); a target embedding,
    ``layers`` layers of the same cell and width (the decoder) and a linear readout over the
    target vocabulary. Token 0 is padding in both vocabularies.

    Besides :class:`irnn_jax.models.LayerSpec`'s attributes it has these, keyword-only.

    Attributes:
      layers: recurrent layers in the encoder, and in the decoder.
      readout_kind: ``'sequence'`` (logits) or ``'blocked'`` (the readout left for the loss to apply
        block by block, a :class:`irnn_jax.core.softmax.Readout`; as
        :class:`irnn_jax.models.RNNModel`'s).
      output_size: the target vocabulary's size (the readout's width).
      vocab_size: the source vocabulary's size.
      embed_size: the width of both embeddings.
      embed_init: initialiser of both embedding tables.
      output_init: initialiser of the readout kernel.
    """

    _: dataclasses.KW_ONLY
    layers: int = 1
    readout_kind: str = "sequence"
    output_size: int
    vocab_size: int
    embed_size: int
    embed_init: initializers.Initializer = initializers.gaussian(0.1)
    output_init: initializers.Initializer = initializers.gaussian(1e-3)

    def setup(self) -> None:
        """The embeddings, the two stacks' parameters and the readout."""
        precision = {"dtype": self.dtype, "param_dtype": self.param_dtype}
        self.source_embed = nn.Embed(
            self.vocab_size, self.embed_size, embedding_init=self.embed_init, **precision
        )
        self.target_embed = nn.Embed(
            self.output_size, self.embed_size, embedding_init=self.embed_init, **precision
        )
        spec = self.layer_spec()
        widths = [self.embed_size] + [self.hidden_size] * (self.layers - 1)
        self.encoder = [CellParameters(**spec, input_size=width) for width in widths]
        self.decoder = [CellParameters(**spec, input_size=width) for width in widths]
        if self.readout_kind == "blocked":
            self.readout = linen.BlockedReadout(self.output_size, self.output_init, **precision)
        else:
            self.readout = nn.Dense(self.output_size, kernel_init=self.output_init, **precision)

    @property
    def kind(self) -> str:
        """The recurrence the cell runs: ``'rnn'``, ``'lstm'`` or ``'gru'``."""
        return linen.RECURRENCE_BY_CELL[self.cell]

    def encode(self, source: jax.Array, source_lengths: jax.Array) -> tuple[State, ...]:
        """The encoder's state after each source sentence's last real token, layer by layer.

        Args:
          source: source token ids ``[B, S]``, each sentence's tokens first, then padding.
          source_lengths: ``[B]``, each sentence's real tokens.

        Returns:
          One state per layer, a tuple ``(h, c)`` (LSTM) or ``(h,)``, each ``[B, H]``.
        """
        xs = self.source_embed(source)
        states = []
        for layer in self.encoder:
            xs, state = recurrence.scan_lengths(
                self.kind,
                layer(),
                xs,
                source_lengths,
                unroll=self.unroll,
                **linen.activation_keywords(self.cell),
            )
            states.append(state)
        return tuple(states)

    def __call__(
        self, source: jax.Array, source_lengths: jax.Array, target_inputs: jax.Array
    ) -> jax.Array | softmax.Readout:
        """The logits of every target token with teacher forcing.

        Args:
          source: source token ids ``[B, S]``, padded at the end.
          source_lengths: ``[B]``, each sentence's real source tokens.
          target_inputs: the decoder's inputs ``[B, T]``: the start token, then the reference
            target tokens but the last (padding after a sentence's end is read but never
            changes an earlier step).

        Returns:
          float32 logits ``[B, T, output_size]`` over the next target token, or with
          ``readout_kind='blocked'`` the :class:`irnn_jax.core.softmax.Readout` that gives them.

        Raises:
          ValueError: for an unknown ``cell`` or ``readout_kind``, or ``layers`` not a positive int.
        """
        checks.one_of(self.cell, linen.CELLS, "cell")
        checks.one_of(self.readout_kind, READOUTS, "readout")
        checks.positive_int(self.layers, "layers")
        states = self.encode(source, source_lengths)
        hs = self.target_embed(target_inputs)
        for layer, state in zip(self.decoder, states, strict=True):
            hs = getattr(recurrence, self.kind)(
                layer(),
                hs,
                state if self.kind == "lstm" else state[0],
                unroll=self.unroll,
                implementation=self.implementation,
                **linen.activation_keywords(self.cell),
            )
        # The readout sees [B * T, H] (2-D products are faster on XLA's CPU backend; RNNModel).
        outputs = self.readout(hs.reshape(-1, hs.shape[-1]))
        if self.readout_kind == "blocked":
            return outputs._replace(features=outputs.features.reshape(*hs.shape[:-1], -1))
        return outputs.reshape(*hs.shape[:-1], self.output_size).astype(jnp.float32)

    def greedy(self, source: jax.Array, source_lengths: jax.Array, start: int, max_length: int) -> jax.Array:
        """Greedy decoding: at each step the most likely token, fed back as the next input.

        Args:
          source: source token ids ``[B, S]``, padded at the end.
          source_lengths: ``[B]``, each sentence's real source tokens.
          start: the start token's id, the decoder's first input.
          max_length: the tokens decoded per sentence.

        Returns:
          int32 token ids ``[B, max_length]`` (a sentence ends at its first end token; what
          follows it is to be cut off).
        """
        states = self.encode(source, source_lengths)
        # The arrays, not the submodules, go into the scan (a bound Flax module inside a JAX
        # transform of its own is not supported).
        parameters = [layer() for layer in self.decoder]
        table = self.target_embed.embedding.astype(self.dtype)
        readout = self.readout.variables["params"]

        def advance(carry: tuple[tuple[State, ...], jax.Array], _: None) -> tuple[Any, jax.Array]:
            states, token = carry
            x, new_states = table[token], []
            for params, state in zip(parameters, states, strict=True):
                state = recurrence.step(self.kind, params, state, x, **linen.activation_keywords(self.cell))
                new_states.append(state)
                x = state[0]
            logits = x @ readout["kernel"].astype(x.dtype) + readout["bias"].astype(x.dtype)
            token = jnp.argmax(logits, axis=-1).astype(jnp.int32)
            return (tuple(new_states), token), token

        first = jnp.full(source.shape[:1], start, jnp.int32)
        _, tokens = jax.lax.scan(advance, (states, first), None, length=max_length)
        return jnp.swapaxes(tokens, 0, 1)


def from_config(model_config: Mapping[str, Any], output_size: int, vocab_size: int) -> Seq2Seq:
    """Build a :class:`Seq2Seq` from a config's ``model`` section (the fields of
    :func:`irnn_jax.models.from_config`, checked by it; ``bidirectional`` must be False,
    ``projection_size`` 0 and ``readout`` ``'sequence'`` or ``'blocked'``, what this model is).

    Args:
      model_config: the ``model`` section.
      output_size: the target vocabulary's size.
      vocab_size: the source vocabulary's size.

    Returns:
      The (unbound) :class:`Seq2Seq`.

    Raises:
      ValueError: for a field :func:`irnn_jax.models.from_config` rejects, or one of the three
        above set otherwise.
    """
    model = linen.from_config(model_config, output_size, vocab_size)
    for field, allowed in (("bidirectional", (False,)), ("projection_size", (0,)), ("readout", READOUTS)):
        if getattr(model, field) not in allowed:
            raise ValueError(
                f"model.{field} must be {' or '.join(map(repr, allowed))} for an encoder-decoder, "
                f"got {getattr(model, field)!r}"
            )
    return Seq2Seq(
        **model.layer_spec(),
        layers=model.layers,
        readout_kind=model.readout,
        output_size=output_size,
        vocab_size=vocab_size,
        embed_size=model.embed_size,
        embed_init=model.embed_init,
        output_init=model.output_init,
    )
