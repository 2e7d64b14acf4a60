"""Thin Flax linen modules over :mod:`irnn_jax.recurrence`.

The modules only own parameters; the recurrence itself is the pure function
:func:`irnn_jax.recurrence.rnn`, so ``RNNLayer`` parameters are exactly the
``{'w_ih', 'w_hh', 'b'}`` pytree that function takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

from irnn_jax import checks, initializers, recurrence


class RNNLayer(nn.Module):
    """A ReLU/tanh recurrent layer: ``[B, T, D] -> [B, T, H]``.

    Attributes:
      hidden_size: number of recurrent units ``H``.
      activation: ``'relu'`` (IRNN) or ``'tanh'``.
      recurrent_init: initialiser of ``w_hh`` (default identity: the IRNN).
      input_init: initialiser of ``w_ih`` (default N(0, 0.001^2), as in the paper).
      bias_init: initialiser of ``b`` (default zeros).
      unroll: scan unroll factor.
      param_dtype: dtype of the parameters.
    """

    hidden_size: int
    activation: Literal["relu", "tanh"] = "relu"
    recurrent_init: initializers.Initializer = initializers.identity()
    input_init: initializers.Initializer = initializers.gaussian(1e-3)
    bias_init: initializers.Initializer = initializers.zeros()
    unroll: int = 1
    param_dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, xs: jax.Array, h0: jax.Array | None = None) -> jax.Array:
        """Return the hidden states ``[B, T, H]`` for inputs ``xs`` ``[B, T, D]``."""
        if getattr(xs, "ndim", None) != 3:
            raise ValueError(f"xs must be 3-D (batch, time, features), got shape {getattr(xs, 'shape', xs)}")
        checks.positive_int(self.hidden_size, "hidden_size")
        input_size = xs.shape[-1]
        params = {
            "w_ih": self.param("w_ih", self.input_init, (input_size, self.hidden_size), self.param_dtype),
            "w_hh": self.param(
                "w_hh", self.recurrent_init, (self.hidden_size, self.hidden_size), self.param_dtype
            ),
            "b": self.param("b", self.bias_init, (self.hidden_size,), self.param_dtype),
        }
        return recurrence.rnn(params, xs, h0, activation=self.activation, unroll=self.unroll)


class RNNModel(nn.Module):
    """An :class:`RNNLayer` with a linear readout of its last state.

    The readout gives a regression output or classification logits, ``[B, output_size]``;
    which one is a matter of the task's loss.

    Attributes:
      hidden_size: recurrent units.
      output_size: readout width (1 for the adding problem, 10 for MNIST classes).
      activation: ``'relu'`` or ``'tanh'``.
      recurrent_init, input_init, bias_init: initialisers of the recurrent layer.
      output_init: initialiser of the readout kernel (default N(0, 0.001^2), as in the paper).
      unroll: scan unroll factor.
    """

    hidden_size: int
    output_size: int
    activation: Literal["relu", "tanh"] = "relu"
    recurrent_init: initializers.Initializer = initializers.identity()
    input_init: initializers.Initializer = initializers.gaussian(1e-3)
    bias_init: initializers.Initializer = initializers.zeros()
    output_init: initializers.Initializer = initializers.gaussian(1e-3)
    unroll: int = 1

    @nn.compact
    def __call__(self, xs: jax.Array) -> jax.Array:
        """Return the readout of the last hidden state, ``[B, output_size]``."""
        hs = RNNLayer(
            self.hidden_size,
            activation=self.activation,
            recurrent_init=self.recurrent_init,
            input_init=self.input_init,
            bias_init=self.bias_init,
            unroll=self.unroll,
            name="rnn",
        )(xs)
        return nn.Dense(self.output_size, kernel_init=self.output_init, name="readout")(hs[:, -1])


def from_config(model_config: Mapping[str, Any], output_size: int) -> RNNModel:
    """Build an :class:`RNNModel` from a config's ``model`` section.

    Initialisers are given as ``{'name': ..., **kwargs}`` and resolved by
    :func:`irnn_jax.initializers.get`, e.g. ``{'name': 'identity', 'gain': 1.0}``.
    """
    inits = {
        field: initializers.get(**dict(model_config[field]))
        for field in ("recurrent_init", "input_init", "bias_init", "output_init")
    }
    return RNNModel(
        hidden_size=model_config.hidden_size,
        output_size=output_size,
        activation=model_config.activation,
        unroll=model_config.unroll,
        **inits,
    )
