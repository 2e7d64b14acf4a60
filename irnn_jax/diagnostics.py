"""What a recurrent network is doing: gradient norms through time, recurrent spectra, active units.

- :func:`state_gradient_norms`: ``||dL/dh_t||`` for t = 1..T, the total derivative of the batch
  loss with respect to each hidden state (through the readout and through all later steps): the
  vanishing/exploding picture. For single-layer, unidirectional ReLU/tanh RNN models (the papers'
  IRNN set-up); the recurrence is re-run with an additive probe ``e_t`` on each state,
  ``h_t = f(x_t W_ih + h_{t-1} W_hh + b) + e_t``, and ``dL/de_t`` at ``e = 0`` is ``dL/dh_t``.
- :func:`recurrent_eigenvalues`: the eigenvalues of each layer's ``w_hh``.
- :func:`active_fraction`: the fraction of ReLU units that are positive over a batch.

:func:`snapshot` gathers all three as one JSON-ready record, which ``fit`` writes to
``diagnostics.jsonl`` every ``train.diagnostics_every`` steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from irnn_jax import models

_ACTIVATIONS = {"irnn": jax.nn.relu, "rnn_relu": jax.nn.relu, "rnn_tanh": jnp.tanh}


def check_supported(model: models.RNNModel) -> None:
    """Raise unless :func:`state_gradient_norms` supports ``model``."""
    if model.cell not in _ACTIVATIONS or model.layers != 1 or model.bidirectional or model.vocab_size:
        raise ValueError(
            "state gradient norms need a single-layer unidirectional irnn/rnn_relu/rnn_tanh model on "
            f"feature inputs, got cell={model.cell!r}, layers={model.layers}, "
            f"bidirectional={model.bidirectional}, vocab_size={model.vocab_size}"
        )


def probed_forward(
    model: models.RNNModel, params: Any, xs: jax.Array, probes: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``(outputs, hidden states [B, T, H])`` of ``model`` with ``probes`` ``[B, T, H]`` added to
    the states inside the recurrence (``probes = 0`` gives ``model.apply``'s outputs)."""
    check_supported(model)
    layer = params["rnn"]["layer_0"]
    activation = _ACTIVATIONS[model.cell]

    def step(h, inputs):
        x_t, e_t = inputs
        h = activation(x_t @ layer["w_ih"] + h @ layer["w_hh"] + layer["b"]) + e_t
        return h, h

    h0 = jnp.zeros((xs.shape[0], layer["w_hh"].shape[0]), xs.dtype)
    _, hs = lax.scan(step, h0, (jnp.swapaxes(xs, 0, 1), jnp.swapaxes(probes, 0, 1)))
    hs = jnp.swapaxes(hs, 0, 1)
    features = hs[:, -1] if model.readout == "last" else hs
    if model.projection_size:
        features = features @ params["projection"]["kernel"] + params["projection"]["bias"]
    return features @ params["readout"]["kernel"] + params["readout"]["bias"], hs


def state_gradient_norms(
    model: models.RNNModel,
    params: Any,
    xs: jax.Array,
    targets: jax.Array,
    loss_fn: Callable[[jax.Array, jax.Array], jax.Array],
) -> np.ndarray:
    """``||dL/dh_t||_2`` over the batch and units, for t = 1..T (shape ``[T]``)."""
    hidden = params["rnn"]["layer_0"]["w_hh"].shape[0]
    zeros = jnp.zeros((*xs.shape[:2], hidden), xs.dtype)
    grads = jax.grad(lambda probes: loss_fn(probed_forward(model, params, xs, probes)[0], targets))(zeros)
    return np.asarray(jnp.sqrt(jnp.sum(grads**2, axis=(0, 2))))


def recurrent_eigenvalues(params: Any) -> dict[str, np.ndarray]:
    """The eigenvalues (complex) of every recurrent layer's ``w_hh``, by layer name."""
    return {
        name: np.linalg.eigvals(np.asarray(layer["w_hh"], np.float64))
        for name, layer in params["rnn"].items()
    }


def active_fraction(hidden_states: jax.Array) -> float:
    """The fraction of positive entries of ``hidden_states`` (active ReLUs)."""
    return float(jnp.mean(hidden_states > 0))


def snapshot(
    model: models.RNNModel,
    params: Any,
    inputs: jax.Array | Mapping[str, jax.Array],
    targets: jax.Array,
    loss_fn: Callable[[jax.Array, jax.Array], jax.Array],
) -> dict[str, Any]:
    """One JSON-ready record: state gradient norms, ``w_hh`` eigenvalues, active fraction.

    ``inputs`` is a task batch's inputs: features ``[B, T, D]``, or ``{'xs': ..., 'lengths': ...}``
    for end-padded sequences, supported with ``readout='sequence'`` (whose loss ignores padding).
    """
    xs = inputs
    if isinstance(inputs, Mapping):
        if model.readout == "last":
            raise ValueError("diagnostics of padded sequences (inputs with lengths) need readout='sequence'")
        xs = inputs["xs"]
    hidden = params["rnn"]["layer_0"]["w_hh"].shape[0]
    _, hs = probed_forward(model, params, xs, jnp.zeros((*xs.shape[:2], hidden), xs.dtype))
    eigenvalues = recurrent_eigenvalues(params)["layer_0"]
    return {
        "state_grad_norms": state_gradient_norms(model, params, xs, targets, loss_fn).tolist(),
        "eigenvalues_real": eigenvalues.real.tolist(),
        "eigenvalues_imag": eigenvalues.imag.tolist(),
        "spectral_radius": float(np.max(np.abs(eigenvalues))),
        "active_fraction": active_fraction(hs),
    }
