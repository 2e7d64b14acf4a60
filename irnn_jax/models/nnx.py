"""Flax NNX counterparts of :class:`irnn_jax.models.RecurrentLayer` and :class:`~irnn_jax.models.RNNModel`.

The same pure recurrences (:func:`irnn_jax.models.layer_recurrence`) run underneath, and the parameters form
the same pytree as the linen modules' ``params`` (``{'rnn': {'layer_0': {'w_ih', 'w_hh', 'b'}},
'readout': {'kernel', 'bias'}, ...}``): :func:`params` reads it off an NNX model and
:func:`set_params` writes one in, so a model trained with either API runs in the other. NNX
modules are built eagerly, so they are told their input size; the ``diagnostics`` probes and the
active-unit count of the linen layer are not part of them.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from irnn_jax.core import checks, initializers, recurrence
from irnn_jax.models import linen


class RecurrentLayer(nnx.Module):
    """One recurrent layer in one direction, ``[B, T, D] -> [B, T, H]``: the attributes and call
    of :class:`irnn_jax.models.RecurrentLayer`, with ``input_size`` ``D`` given up front."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        cell: str = "irnn",
        recurrent_init: initializers.Initializer = linen.LayerSpec.recurrent_init,
        input_init: initializers.Initializer = linen.LayerSpec.input_init,
        bias_init: initializers.Initializer = linen.LayerSpec.bias_init,
        forget_bias: float = 1.0,
        unroll: int = 1,
        implementation: str = "auto",
        dtype: str = "float32",
        param_dtype: str = "float32",
        reverse: bool = False,
        rngs: nnx.Rngs,
    ) -> None:
        self.cell = checks.one_of(cell, linen.CELLS, "cell")
        self.unroll, self.implementation, self.dtype, self.reverse = unroll, implementation, dtype, reverse
        specs = recurrence.parameter_specs(
            linen.RECURRENCE_BY_CELL[cell],
            input_size,
            hidden_size,
            recurrent_init=recurrent_init,
            input_init=input_init,
            bias_init=bias_init,
            forget_bias=forget_bias,
        )
        self.names = tuple(specs)
        for name, (shape, init) in specs.items():
            setattr(self, name, nnx.Param(init(rngs.params(), shape, jnp.dtype(param_dtype))))

    def __call__(
        self,
        xs: jax.Array,
        lengths: jax.Array | None = None,
        initial_state: linen.State | None = None,
        return_state: bool = False,
        final_only: bool = False,
    ) -> jax.Array | tuple[jax.Array, linen.State]:
        """The states ``[B, T, H]`` (or with ``final_only`` the final ``h``), as the linen layer.

        Args:
          xs: inputs ``[B, T, D]``, cast to the layer's ``dtype``.
          lengths: ``[B]`` real steps per sequence, or ``None``; only a reversed layer uses it.
          initial_state: ``h`` ``[B, H]`` (``(h, c)`` for an LSTM), or ``None`` for zeros.
          return_state: also return the state after the last step read.
          final_only: return only the final ``h`` ``[B, H]``.

        Returns:
          The states ``[B, T, H]`` in input order, or the final ``h`` ``[B, H]``; with
          ``return_state``, ``(outputs, final state)``.
        """
        params = {name: getattr(self, name)[...].astype(self.dtype) for name in self.names}
        xs = xs.astype(self.dtype)
        if initial_state is not None:
            initial_state = jax.tree.map(lambda state: state.astype(self.dtype), initial_state)
        if self.reverse:
            xs = linen.reverse_time(xs, lengths)
        need_states = return_state or not final_only
        hs, final_state = linen.layer_recurrence(
            self.cell,
            params,
            xs,
            initial_state,
            need_states,
            unroll=self.unroll,
            implementation=self.implementation,
        )
        return linen.layer_outputs(
            self.cell, hs, final_state, lengths, self.reverse, final_only, return_state
        )


class RecurrentStack(nnx.Module):
    """``layers`` layers, each optionally bidirectional (attributes ``layer_0``,
    ``layer_0_reverse``, ...): :class:`irnn_jax.models.RecurrentStack` for full sequences."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        layers: int = 1,
        bidirectional: bool = False,
        rngs: nnx.Rngs,
        **spec: Any,
    ) -> None:
        self.layers, self.bidirectional = checks.positive_int(layers, "layers"), bidirectional
        directions = (False, True) if bidirectional else (False,)
        for index in range(layers):
            for reverse in directions:
                layer = RecurrentLayer(input_size, hidden_size, reverse=reverse, rngs=rngs, **spec)
                setattr(self, _layer_name(index, reverse), layer)
            input_size = hidden_size * len(directions)

    def __call__(
        self, xs: jax.Array, lengths: jax.Array | None = None, final_only: bool = False
    ) -> jax.Array:
        """The last layer's states (with ``final_only``, its final states), directions side by side.

        Args:
          xs: inputs ``[B, T, D]``.
          lengths: ``[B]`` real steps per sequence, or ``None``.
          final_only: the last layer returns only its final state(s).

        Returns:
          ``[B, T, H']`` or with ``final_only`` ``[B, H']`` (``H' = 2H`` if bidirectional).
        """
        directions = (False, True) if self.bidirectional else (False,)
        for index in range(self.layers):
            last = final_only and index == self.layers - 1
            outputs = [
                getattr(self, _layer_name(index, reverse))(xs, lengths, final_only=last)
                for reverse in directions
            ]
            xs = jnp.concatenate(outputs, axis=-1) if self.bidirectional else outputs[0]
        return xs


def _layer_name(index: int, reverse: bool) -> str:
    return f"layer_{index}" + ("_reverse" if reverse else "")


class RNNModel(nnx.Module):
    """A :class:`RecurrentStack`, an optional projection and a linear readout of the last state
    (``readout='last'``) or of every step (``'sequence'``): :class:`irnn_jax.models.RNNModel`
    on feature inputs (no token embedding, no carried state)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        layers: int = 1,
        bidirectional: bool = False,
        projection_size: int = 0,
        readout: str = "last",
        output_init: initializers.Initializer = linen.RNNModel.output_init,
        rngs: nnx.Rngs,
        **spec: Any,
    ) -> None:
        self.hidden_size, self.bidirectional = hidden_size, bidirectional
        self.readout_kind = checks.one_of(readout, ("last", "sequence"), "readout")
        precision = {key: spec.get(key, "float32") for key in ("dtype", "param_dtype")}
        self.rnn = RecurrentStack(
            input_size, hidden_size, layers=layers, bidirectional=bidirectional, rngs=rngs, **spec
        )
        features = hidden_size * (2 if bidirectional else 1)
        if projection_size:
            self.projection = nnx.Linear(
                features, projection_size, kernel_init=output_init, rngs=rngs, **precision
            )
            features = projection_size
        self.readout = nnx.Linear(features, output_size, kernel_init=output_init, rngs=rngs, **precision)

    def __call__(self, xs: jax.Array, lengths: jax.Array | None = None) -> jax.Array:
        """``[B, output_size]`` (``'last'``) or ``[B, T, output_size]`` (``'sequence'``), float32.

        Args:
          xs: features ``[B, T, D]``.
          lengths: ``[B]`` real steps per sequence, or ``None``; the ``'last'`` readout then reads
            each sequence's last real step.

        Returns:
          The float32 readout, ``[B, output_size]`` or ``[B, T, output_size]``.
        """
        last = self.readout_kind == "last"
        hs = self.rnn(xs, lengths, final_only=last and lengths is None)
        if last and lengths is not None:  # the last real step of each sequence
            hs = linen.last_states(hs, lengths, self.hidden_size, self.bidirectional)
        if hasattr(self, "projection"):
            hs = self.projection(hs)
        return self.readout(hs).astype(jnp.float32)


def params(model: nnx.Module) -> dict[str, Any]:
    """The parameters of an NNX model as the pytree the linen modules' ``params`` are.

    Args:
      model: an NNX model of this module (or any NNX module).

    Returns:
      A nested dict of arrays, the structure given in this module's docstring.
    """
    return nnx.to_pure_dict(nnx.state(model, nnx.Param))


def set_params(model: nnx.Module, tree: dict[str, Any]) -> None:
    """Write a linen-shaped parameter pytree (e.g. ``variables['params']``) into ``model``.

    Args:
      model: the NNX model, updated in place.
      tree: a nested dict of arrays with the structure :func:`params` gives for ``model``.
    """
    state = nnx.state(model, nnx.Param)
    nnx.replace_by_pure_dict(state, tree)
    nnx.update(model, state)
