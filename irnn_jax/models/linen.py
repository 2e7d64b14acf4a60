"""Thin Flax linen modules over :mod:`irnn_jax.core.recurrence`.

The modules only own parameters; the recurrences are the pure functions of
:mod:`irnn_jax.core.recurrence`, and a :class:`RecurrentLayer`'s parameters are exactly the pytree
those functions take (``{'w_ih', 'w_hh', 'b'}``, plus ``'b_hn'`` for a GRU).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from irnn_jax.core import checks, initializers, recurrence, simple, softmax

CELLS = ("irnn", "rnn_relu", "rnn_tanh", "lstm", "gru")
READOUTS = ("last", "sequence", "blocked")
DTYPES = ("float32", "bfloat16", "float16", "float64")
# The recurrence (recurrence.rnn, lstm or gru) each cell runs.
RECURRENCE_BY_CELL = {"irnn": "rnn", "rnn_relu": "rnn", "rnn_tanh": "rnn", "lstm": "lstm", "gru": "gru"}


class LayerSpec(nn.Module):
    """The attributes that say what one recurrent layer is, shared by every module here (a base
    class: :class:`RecurrentLayer`, :class:`RecurrentStack` and :class:`RNNModel` derive from it
    and hand these on with :meth:`layer_spec`).

    Attributes:
      hidden_size: number of units ``H``.
      cell: ``'irnn'`` and ``'rnn_relu'`` (ReLU RNN), ``'rnn_tanh'``, ``'lstm'`` or ``'gru'``.
      recurrent_init: initialiser of ``w_hh`` (per gate block for gated cells); default
        identity, the IRNN.
      input_init: initialiser of ``w_ih`` (per gate block); default N(0, 0.001^2) as in the paper.
      bias_init: initialiser of ``b``; default zeros.
      forget_bias: added to an LSTM's forget-gate bias.
      unroll: scan unroll factor.
      implementation: how the recurrence is differentiated: ``'auto'`` (its fused custom VJP
        where that is faster), ``'fused'`` or ``'autodiff'`` (JAX's gradient of the plain scan).
        A custom VJP supports reverse mode only: forward-mode ``jax.jvp``/``jax.jacfwd`` through
        the model needs ``'autodiff'``.
      dtype: the dtype of the computation (``'float32'``, or ``'bfloat16'`` for accelerators):
        inputs and parameters are cast to it inside each layer; the model's outputs are float32.
      param_dtype: the dtype the parameters are stored (and updated) in.
    """

    hidden_size: int
    cell: str = "irnn"
    recurrent_init: initializers.Initializer = initializers.identity()
    input_init: initializers.Initializer = initializers.gaussian(1e-3)
    bias_init: initializers.Initializer = initializers.zeros()
    forget_bias: float = 1.0
    unroll: int = 1
    implementation: str = "auto"
    dtype: str = "float32"
    param_dtype: str = "float32"

    def layer_spec(self) -> dict[str, Any]:
        """This module's :class:`LayerSpec` attributes, to build a layer with.

        Returns:
          ``{attribute name: value}`` for every :class:`LayerSpec` attribute, from ``hidden_size``
          to ``param_dtype``, e.g. ``RecurrentLayer(**self.layer_spec(), reverse=True)``.
        """
        return _attributes(self, LayerSpec)


class StackSpec(LayerSpec):
    """A :class:`LayerSpec` and the shape of the stack: ``layers`` (>= 1) and ``bidirectional``
    (a reversed-time layer beside each forward one)."""

    layers: int = 1
    bidirectional: bool = False


def _attributes(module: nn.Module, spec: type[nn.Module]) -> dict[str, Any]:
    """``module``'s values of the attributes ``spec`` declares (Flax's own ``parent`` and
    ``name`` left out)."""
    return {
        field.name: getattr(module, field.name)
        for field in dataclasses.fields(spec)
        if field.name not in ("parent", "name")
    }


PROBES = "probes"  # the variable collection of the additive state probes (irnn_jax.models.diagnostics)
PROBED_STATES = "probed_states"  # what a probed layer sows: its states, probes included


class RecurrentLayer(LayerSpec):
    """One recurrent layer in one direction: ``[B, T, D] -> [B, T, H]``.

    Attributes (besides :class:`LayerSpec`'s):
      reverse: run from the last step to the first (outputs stay in input order); with
        ``lengths``, from each sequence's last real step, so end padding is read after it.
      final_only: return only the state after reading the whole sequence, ``[B, H]`` (cheaper to
        differentiate than slicing the sequence).

    A ReLU layer sows the fraction of its active units (collection ``'intermediates'``, read
    with ``apply(..., mutable=['intermediates'])``) for the training log. A ReLU or tanh layer
    applied with the collection :data:`PROBES` mutable, or given it, adds those probes to its
    states inside the recurrence (zeros when it creates them; see
    :class:`irnn_jax.core.recurrence.RNNOptions`) and sows its states in :data:`PROBED_STATES`.
    """

    reverse: bool = False
    final_only: bool = False

    @nn.compact
    def __call__(
        self,
        xs: jax.Array,
        lengths: jax.Array | None = None,
        initial_state: State | None = None,
        return_state: bool = False,
    ) -> jax.Array | tuple[jax.Array, State]:
        """Return the hidden states ``[B, T, H]`` (or the final one) for inputs ``xs`` ``[B, T, D]``.

        Args:
          xs: inputs ``[B, T, D]``, cast to ``dtype``.
          lengths: ``[B]`` real steps per sequence (steps ``>= lengths[b]`` are end padding), or
            ``None``; only a reversed layer needs it.
          initial_state: ``h`` ``[B, H]`` (``(h, c)`` for an LSTM), or ``None`` for zeros.
          return_state: also return the state after the last step read.

        Returns:
          The states ``[B, T, H]`` in input order, or with ``final_only`` the final ``h``
          ``[B, H]``; with ``return_state``, ``(outputs, final state)``, the final state ``h``
          (``(h, c)`` for an LSTM), of the last step read (step 0 for a reversed layer).

        Raises:
          ValueError: for an unknown ``cell`` or ``xs`` that is not 3-D.
        """
        kind = RECURRENCE_BY_CELL[checks.one_of(self.cell, CELLS, "cell")]
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
            name: self.param(name, init, shape, self.param_dtype).astype(self.dtype)
            for name, (shape, init) in specs.items()
        }
        xs = xs.astype(self.dtype)
        if initial_state is not None:
            initial_state = jax.tree.map(lambda state: state.astype(self.dtype), initial_state)
        if self.reverse:
            xs = reverse_time(xs, lengths)
        need_states = return_state or not self.final_only
        if kind == "rnn":
            hs, final_state = self._relu_or_tanh_states(params, xs, initial_state, lengths, need_states)
        else:
            hs, final_state = layer_recurrence(
                self.cell,
                params,
                xs,
                initial_state,
                need_states,
                unroll=self.unroll,
                implementation=self.implementation,
            )
        return layer_outputs(self.cell, hs, final_state, lengths, self.reverse, self.final_only, return_state)

    def _relu_or_tanh_states(
        self,
        params: recurrence.Params,
        xs: jax.Array,
        initial_state: jax.Array | None,
        lengths: jax.Array | None,
        need_states: bool,
    ) -> tuple[jax.Array | None, jax.Array]:
        """``(states or None, final state)`` of a ReLU or tanh layer on time-ordered ``xs``, with
        the fraction of active units sown and the probes added: the states only when
        ``need_states`` or when probed (else the cheaper final-state recurrence)."""
        probed = self.has_variable(PROBES, "states") or (
            self.is_mutable_collection(PROBES) and not self.is_initializing()
        )
        probes = None
        if probed:
            shape = (*xs.shape[:2], self.hidden_size)
            probes = self.variable(PROBES, "states", jnp.zeros, shape, xs.dtype).value
            probes = reverse_time(probes, lengths) if self.reverse else probes
        final_only = not (need_states or probed)
        result, active = simple.rnn_counting_active(
            params,
            xs,
            initial_state,
            final_only=final_only,
            unroll=self.unroll,
            implementation=self.implementation,
            probes=probes,
            **activation_keywords(self.cell),
        )
        if self.cell != "rnn_tanh":
            self.sow("intermediates", "active_fraction", active)
        if probed:
            self.sow(PROBED_STATES, "states", reverse_time(result, lengths) if self.reverse else result)
        return (None, result) if final_only else (result, result[:, -1])


State = recurrence.State


def activation_keywords(cell: str) -> dict[str, str]:
    """The ``activation`` keyword of a simple-RNN ``cell``'s recurrence (none for a gated cell).

    Args:
      cell: one of :data:`CELLS`.

    Returns:
      ``{'activation': 'relu'}`` or ``{'activation': 'tanh'}`` for a simple RNN, else ``{}``.
    """
    if RECURRENCE_BY_CELL[cell] != "rnn":
        return {}
    return {"activation": "tanh" if cell == "rnn_tanh" else "relu"}


def layer_recurrence(
    cell: str,
    params: recurrence.Params,
    xs: jax.Array,
    initial_state: State | None,
    need_states: bool,
    *,
    unroll: int = 1,
    implementation: str = "auto",
) -> tuple[jax.Array | None, State]:
    """``(states [B, T, H] or None, final state)`` of one layer of ``cell`` on time-ordered ``xs``:
    the states only when ``need_states``, else the cheaper final-state recurrence, whose backward
    pass reads no cotangent of every state.

    Args:
      cell: one of :data:`CELLS`.
      params: the layer's parameters, ``{'w_ih': [D, kH], 'w_hh': [H, kH], 'b': [kH]}`` (``k``
        gate blocks; plus ``'b_hn'`` ``[H]`` for a GRU).
      xs: inputs ``[B, T, D]`` in the order they are read (already reversed for a reversed layer).
      initial_state: ``h`` ``[B, H]`` (``(h, c)`` for an LSTM), or ``None`` for zeros.
      need_states: whether the states of every step are needed.
      unroll: scan unroll factor.
      implementation: ``'auto'``, ``'fused'`` or ``'autodiff'`` (:class:`LayerSpec`).

    Returns:
      ``(hs [B, T, H] or None, final state)``, the final state ``h`` ``[B, H]`` (``(h, c)`` for an
      LSTM).
    """
    kind = RECURRENCE_BY_CELL[cell]
    options = {"unroll": unroll, "implementation": implementation, **activation_keywords(cell)}
    if need_states:
        return getattr(recurrence, kind)(params, xs, initial_state, return_state=True, **options)
    return None, getattr(recurrence, f"{kind}_final")(params, xs, initial_state, **options)


def layer_outputs(
    cell: str,
    hs: jax.Array | None,
    final_state: State,
    lengths: jax.Array | None,
    reverse: bool,
    final_only: bool,
    return_state: bool,
) -> jax.Array | tuple[jax.Array, State]:
    """What a layer returns: its final ``h`` with ``final_only``, else its states in input order;
    with ``return_state`` also the final state.

    Args:
      cell: one of :data:`CELLS`.
      hs: the states ``[B, T, H]`` in the order read (``None`` is allowed with ``final_only``).
      final_state: ``h`` ``[B, H]`` (``(h, c)`` for an LSTM).
      lengths: ``[B]`` real steps per sequence, or ``None``; used to restore the input order of a
        reversed layer's states.
      reverse: whether the layer read the sequence reversed (:func:`reverse_time`).
      final_only: return the final ``h`` instead of the states.
      return_state: also return ``final_state``.

    Returns:
      The final ``h`` ``[B, H]`` (``final_only``) or the states ``[B, T, H]`` in input order; with
      ``return_state``, ``(outputs, final_state)``.
    """
    if final_only:
        outputs = final_state[0] if RECURRENCE_BY_CELL[cell] == "lstm" else final_state
    else:
        outputs = reverse_time(hs, lengths) if reverse else hs
    return (outputs, final_state) if return_state else outputs


def reverse_time(xs: jax.Array, lengths: jax.Array | None = None) -> jax.Array:
    """Reverse ``xs`` ``[B, T, ...]`` in time; with ``lengths``, only each sequence's first
    ``lengths[b]`` steps, the end padding staying in place (its own inverse).

    Args:
      xs: ``[B, T, ...]``, time on axis 1.
      lengths: ``[B]`` real steps per sequence, or ``None`` to reverse all ``T`` steps.

    Returns:
      An array shaped and typed like ``xs``.
    """
    if lengths is None:
        return jnp.flip(xs, axis=1)
    steps = jnp.arange(xs.shape[1])[None, :]
    lengths = jnp.asarray(lengths)[:, None]
    order = jnp.where(steps < lengths, lengths - 1 - steps, steps)
    return jnp.take_along_axis(xs, order.reshape(order.shape + (1,) * (xs.ndim - 2)), axis=1)


class RecurrentStack(StackSpec):
    """``layers`` recurrent layers, each optionally bidirectional: ``[B, T, D] -> [B, T, H']``.

    A bidirectional layer concatenates its forward and backward states (``H' = 2H``) and feeds
    them to the next layer. Every layer draws its own parameters from the same initialisers.

    Attributes (besides :class:`StackSpec`'s):
      final_only: the last layer returns only its final state(s), ``[B, H']``.
    """

    final_only: bool = False

    @nn.compact
    def __call__(
        self,
        xs: jax.Array,
        lengths: jax.Array | None = None,
        initial_state: tuple[State, ...] | None = None,
        return_state: bool = False,
    ) -> jax.Array | tuple[jax.Array, tuple[State, ...]]:
        """Return the last layer's states, ``[B, T, H]`` (``[B, T, 2H]`` if bidirectional).

        Carried states are for unidirectional stacks only: a reversed layer has no state to
        carry into the next window.

        Args:
          xs: inputs ``[B, T, D]``.
          lengths: ``[B]`` real steps per sequence, or ``None`` (no padding).
          initial_state: one state per layer (as :class:`RecurrentLayer` takes it), or ``None``.
          return_state: also return each layer's final state.

        Returns:
          The last layer's states ``[B, T, H']``, or with ``final_only`` its final states
          ``[B, H']``; with ``return_state``, ``(outputs, final states)``, a tuple with one entry
          per layer.

        Raises:
          ValueError: for ``layers`` not a positive int, ``initial_state`` or ``return_state`` on a
            bidirectional stack, an ``initial_state`` whose length is not ``layers``, or as
            :class:`RecurrentLayer`.
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
                    **self.layer_spec(),
                    reverse=reverse,
                    final_only=self.final_only and index == self.layers - 1,
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


class RNNModel(StackSpec):
    """An optional token embedding, a :class:`RecurrentStack`, an optional linear projection,
    and a linear readout.

    With ``readout='last'`` the readout sees the final state (the forward direction's last real
    step and, if bidirectional, the backward direction's state after reading the whole
    sequence) and gives ``[B, output_size]``; with ``readout='sequence'`` it sees every step and
    gives ``[B, T, output_size]``. Regression outputs or classification logits: the task's loss
    decides. ``readout='blocked'`` is ``'sequence'`` with the readout's product left to the loss
    (a language model's large softmax, computed block by block): it gives a
    :class:`irnn_jax.core.softmax.Readout`, whose ``logits()`` are the ``'sequence'`` outputs.

    Besides :class:`StackSpec`'s attributes it has these, keyword-only.

    Attributes:
      output_size: readout width (1 for the adding problem, 10 for MNIST, the vocabulary for LM).
      projection_size: if > 0, a linear layer of this width before the readout (the paper's
        1024-unit LM with a 512 projection).
      readout: ``'last'``, ``'sequence'`` or ``'blocked'``.
      output_init: initialiser of the readout (and projection) kernel; default N(0, 0.001^2).
      vocab_size: if > 0, inputs are token ids ``[B, T]`` in ``[0, vocab_size)``, embedded into
        ``embed_size`` features by a table drawn from ``embed_init``; if 0, inputs are features.
    """

    _: dataclasses.KW_ONLY
    output_size: int
    projection_size: int = 0
    readout: str = "last"
    output_init: initializers.Initializer = initializers.gaussian(1e-3)
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

        Args:
          xs: features ``[B, T, D]``, or with ``vocab_size`` token ids ``[B, T]``.
          lengths: ``[B]`` real steps per sequence, or ``None`` (no padding).
          initial_state: one state per layer, or ``None`` for zeros.
          return_state: also return each layer's final state.

        Returns:
          The float32 readout, ``[B, output_size]`` (``'last'``) or ``[B, T, output_size]``
          (``'sequence'``); with ``return_state``, ``(outputs, final states)``, one per layer.

        Raises:
          ValueError: for an unknown ``readout``, or as :class:`RecurrentStack`.
        """
        checks.one_of(self.readout, READOUTS, "readout")
        precision = {"dtype": self.dtype, "param_dtype": self.param_dtype}
        if self.vocab_size:
            xs = nn.Embed(
                self.vocab_size, self.embed_size, embedding_init=self.embed_init, name="embed", **precision
            )(xs)
        # A last-state readout of full sequences needs only the final states: the stack's last
        # layer then runs rnn_final, whose backward pass reads no [T, B, H] cotangent.
        final_only = self.readout == "last" and lengths is None and not return_state
        hs = RecurrentStack(
            **_attributes(self, StackSpec),
            final_only=final_only,
            name="rnn",
        )(xs, lengths, initial_state, return_state)
        if return_state:
            hs, final_state = hs
        if self.readout == "last" and not final_only:
            hs = last_states(hs, lengths, self.hidden_size, self.bidirectional)
        leading = hs.shape[:-1]
        # The dense layers see [B * T, H]: XLA's CPU backend ran the [B, T, H] x [H, V] product
        # and its gradients ~1.7x slower than the same 2-D products (benchmarks/lm_step.py).
        hs = hs.reshape(-1, hs.shape[-1])
        if self.projection_size:
            hs = nn.Dense(self.projection_size, kernel_init=self.output_init, name="projection", **precision)(
                hs
            )
        if self.readout == "blocked":
            readout = BlockedReadout(self.output_size, self.output_init, name="readout", **precision)(hs)
            readout = readout._replace(features=readout.features.reshape(*leading, -1))
            return (readout, final_state) if return_state else readout
        outputs = nn.Dense(self.output_size, kernel_init=self.output_init, name="readout", **precision)(hs)
        outputs = outputs.reshape(*leading, self.output_size).astype(jnp.float32)  # the loss is in float32
        return (outputs, final_state) if return_state else outputs


class BlockedReadout(nn.Module):
    """The parameters of a dense readout (``kernel``, ``bias``: those of ``nn.Dense``, drawn alike)
    and its inputs, as a :class:`irnn_jax.core.softmax.Readout` left for the loss to apply."""

    output_size: int
    kernel_init: initializers.Initializer
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, features: jax.Array) -> softmax.Readout:
        """The readout of ``features`` ``[N, H]``, in ``dtype``.

        Args:
          features: the readout's inputs.

        Returns:
          ``Readout(features, kernel, bias)``.
        """
        kernel = self.param(
            "kernel", self.kernel_init, (features.shape[-1], self.output_size), self.param_dtype
        )
        bias = self.param("bias", nn.initializers.zeros_init(), (self.output_size,), self.param_dtype)
        features, kernel, bias = nn.dtypes.promote_dtype(features, kernel, bias, dtype=self.dtype)
        return softmax.Readout(features, kernel, bias)


def last_states(hs: jax.Array, lengths: jax.Array | None, hidden_size: int, bidirectional: bool) -> jax.Array:
    """The forward states at each sequence's last real step, and the backward states at step 0.

    Args:
      hs: a stack's states ``[B, T, H']``: the forward states in ``[..., :hidden_size]``, the
        backward ones (if bidirectional) in ``[..., hidden_size:]``.
      lengths: ``[B]`` real steps per sequence, or ``None`` (every sequence has ``T``).
      hidden_size: ``H``, the width of one direction.
      bidirectional: whether ``hs`` holds backward states too.

    Returns:
      ``[B, H]``, or ``[B, 2H]`` (forward, backward) if bidirectional.
    """
    if lengths is None:
        last = hs[:, -1, :hidden_size]
    else:
        last = jnp.take_along_axis(hs, (jnp.asarray(lengths) - 1)[:, None, None], axis=1)[:, 0]
        last = last[:, :hidden_size]
    return jnp.concatenate([last, hs[:, 0, hidden_size:]], axis=-1) if bidirectional else last


CONFIG_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(RNNModel)
    if field.name not in ("output_size", "vocab_size", "parent", "name")  # the task sets the first two
)
INIT_FIELDS = tuple(field for field in CONFIG_FIELDS if field.endswith("_init"))
# The value of every config field but the initialisers that a model section may leave out.
CONFIG_DEFAULTS = {
    field.name: field.default
    for field in dataclasses.fields(RNNModel)
    if field.name in CONFIG_FIELDS
    and field.name not in INIT_FIELDS
    and field.default is not dataclasses.MISSING
}


def _embed_size(embed_size: Any, vocab_size: int) -> int:
    """``model.embed_size``, checked: positive for token inputs, 0 for features."""
    if vocab_size:
        return checks.positive_int(embed_size, "model.embed_size (the task's inputs are token ids)")
    if embed_size != 0:
        raise ValueError(
            f"model.embed_size must be 0: the task's inputs are features, not token ids; got {embed_size!r}"
        )
    return embed_size


def from_config(model_config: Mapping[str, Any], output_size: int, vocab_size: int = 0) -> RNNModel:
    """Build an :class:`RNNModel` from a config's ``model`` section.

    Initialisers are given as ``{'name': ..., **kwargs}`` and resolved by
    :func:`irnn_jax.core.initializers.get`, e.g. ``{'name': 'identity', 'gain': 1.0}``.

    Args:
      model_config: the ``model`` section, a mapping of :data:`CONFIG_FIELDS`, the
        :class:`RNNModel` attributes the task does not set (those in :data:`CONFIG_DEFAULTS`
        optional, the initialisers required).
      output_size: the readout's width (the task's ``output_size``).
      vocab_size: the task's vocabulary size when its inputs are token ids, else 0.

    Returns:
      The (unbound) :class:`RNNModel`.

    Raises:
      ValueError: for an out-of-range or unknown value (e.g. a non-positive ``hidden_size``, an
        unknown ``cell``, ``embed_size`` not positive with token inputs or not 0 without), or an
        unknown initialiser name.
      TypeError: for a non-bool ``bidirectional``, a non-numeric ``forget_bias``, or initialiser
        arguments the named initialiser does not take.
      KeyError: for a missing field without a default (an initialiser or ``hidden_size``).
    """
    model_config = {**CONFIG_DEFAULTS, **model_config}
    inits = {}
    for field in INIT_FIELDS:
        with checks.about(f"model.{field}.name"):
            inits[field] = initializers.get(**dict(model_config[field]))
    embed_size = _embed_size(model_config["embed_size"], vocab_size)
    if model_config["readout"] == "blocked" and not vocab_size:
        raise ValueError(
            "model.readout='blocked' is for language models (token inputs), whose loss computes the "
            "softmax block by block; use 'sequence' for this task"
        )
    projection_size = model_config["projection_size"]
    if projection_size != 0:
        checks.positive_int(projection_size, "model.projection_size")
    if not isinstance(model_config["bidirectional"], bool):
        raise TypeError(f"model.bidirectional must be True or False, got {model_config['bidirectional']!r}")
    return RNNModel(
        hidden_size=checks.positive_int(model_config["hidden_size"], "model.hidden_size"),
        output_size=output_size,
        cell=checks.one_of(model_config["cell"], CELLS, "model.cell"),
        layers=checks.positive_int(model_config["layers"], "model.layers"),
        bidirectional=model_config["bidirectional"],
        projection_size=projection_size,
        readout=checks.one_of(model_config["readout"], READOUTS, "model.readout"),
        forget_bias=checks.finite_number(model_config["forget_bias"], "model.forget_bias"),
        unroll=checks.positive_int(model_config["unroll"], "model.unroll"),
        implementation=checks.one_of(
            model_config["implementation"], recurrence.IMPLEMENTATIONS, "model.implementation"
        ),
        vocab_size=vocab_size,
        embed_size=embed_size,
        dtype=checks.one_of(model_config["dtype"], DTYPES, "model.dtype"),
        param_dtype=checks.one_of(model_config["param_dtype"], DTYPES, "model.param_dtype"),
        **inits,
    )
