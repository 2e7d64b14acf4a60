"""What a recurrent network is doing: gradient norms through time, recurrent spectra, active units.

- :func:`state_gradient_norms`: ``||dL/dh_t||`` for t = 1..T, the total derivative of the batch
  loss with respect to each hidden state (through the readout and through all later steps): the
  vanishing/exploding picture. For single-layer, unidirectional ReLU/tanh RNN models (the papers'
  IRNN set-up); the model runs its own layer with an additive probe ``e_t`` on each state,
  ``h_t = f(x_t W_ih + h_{t-1} W_hh + b) + e_t`` (:data:`irnn_jax.models.PROBES`), and
  ``dL/de_t`` at ``e = 0`` is ``dL/dh_t``.
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

from irnn_jax.models import linen

_SUPPORTED_CELLS = ("irnn", "rnn_relu", "rnn_tanh")


def check_supported(model: linen.RNNModel) -> None:
    """Raise unless :func:`state_gradient_norms` supports ``model``.

    Args:
      model: the linen model to probe.

    Raises:
      ValueError: unless ``model`` is a single-layer, unidirectional ``'irnn'``, ``'rnn_relu'`` or
        ``'rnn_tanh'`` model on feature inputs (``vocab_size=0``).
    """
    if model.cell not in _SUPPORTED_CELLS or model.layers != 1 or model.bidirectional or model.vocab_size:
        raise ValueError(
            "state gradient norms need a single-layer unidirectional irnn/rnn_relu/rnn_tanh model on "
            f"feature inputs, got cell={model.cell!r}, layers={model.layers}, "
            f"bidirectional={model.bidirectional}, vocab_size={model.vocab_size}"
        )


def zero_probes(model: linen.RNNModel, params: Any, xs: jax.Array) -> Any:
    """The model's probe variables (:data:`irnn_jax.models.PROBES`), all zero, for inputs ``xs``.

    Args:
      model: a model :func:`check_supported` accepts.
      params: its parameters (the ``'params'`` collection).
      xs: inputs ``[B, T, D]``.

    Returns:
      The ``PROBES`` collection, a pytree with one leaf, zeros ``[B, T, H]`` in the model's
      ``dtype``.

    Raises:
      ValueError: for a model :func:`check_supported` rejects.
    """
    check_supported(model)
    _, variables = model.apply({"params": params}, xs, mutable=[linen.PROBES])
    return variables[linen.PROBES]


def probed_forward(
    model: linen.RNNModel, params: Any, xs: jax.Array, probes: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``(outputs, hidden states [B, T, H])`` of ``model`` with ``probes`` ``[B, T, H]`` added to
    the states inside its recurrence (``probes = 0`` gives ``model.apply``'s outputs).

    Args:
      model: a model :func:`check_supported` accepts.
      params: its parameters (the ``'params'`` collection).
      xs: inputs ``[B, T, D]``.
      probes: ``[B, T, H]``, added to each state ``h_t``.

    Returns:
      ``(outputs, states)``, the model's outputs (``[B, output_size]`` or ``[B, T, output_size]``)
      and its states ``[B, T, H]``, probes included.

    Raises:
      ValueError: for a model :func:`check_supported` rejects.
    """
    structure = jax.tree.structure(zero_probes(model, params, xs))
    return _probed_apply(model, params, xs, jax.tree.unflatten(structure, [probes]))


def _probed_apply(
    model: linen.RNNModel, params: Any, xs: jax.Array, probes: Any
) -> tuple[jax.Array, jax.Array]:
    outputs, sown = model.apply({"params": params, linen.PROBES: probes}, xs, mutable=[linen.PROBED_STATES])
    (states,) = jax.tree.leaves(sown[linen.PROBED_STATES])
    return outputs, states


def state_gradient_norms(
    model: linen.RNNModel,
    params: Any,
    xs: jax.Array,
    targets: jax.Array,
    loss_fn: Callable[[jax.Array, jax.Array], jax.Array],
) -> np.ndarray:
    """``||dL/dh_t||_2`` over the batch and units, for t = 1..T (shape ``[T]``).

    Args:
      model: a model :func:`check_supported` accepts.
      params: its parameters (the ``'params'`` collection).
      xs: inputs ``[B, T, D]``.
      targets: the batch's targets, as ``loss_fn`` takes them.
      loss_fn: ``loss_fn(outputs, targets)``, the scalar batch loss (e.g. a task's ``loss``).

    Returns:
      ``[T]``, the 2-norm of ``dL/dh_t`` over the batch and units at each step (a NumPy array).

    Raises:
      ValueError: for a model :func:`check_supported` rejects.
    """
    grads = jax.grad(lambda probes: loss_fn(_probed_apply(model, params, xs, probes)[0], targets))(
        zero_probes(model, params, xs)
    )
    (grad,) = jax.tree.leaves(grads)
    return np.asarray(jnp.sqrt(jnp.sum(grad**2, axis=(0, 2))))


def recurrent_eigenvalues(params: Any) -> dict[str, np.ndarray]:
    """The eigenvalues (complex) of every recurrent layer's ``w_hh``, by layer name.

    Args:
      params: a model's parameters (the ``'params'`` collection), with its layers under
        ``params['rnn']``; their ``w_hh`` must be square ``[H, H]`` (ReLU/tanh cells: a gated
        cell's ``[H, kH]`` has no eigenvalues).

    Returns:
      ``{layer name: eigenvalues [H]}``, complex NumPy arrays, computed in float64.
    """
    return {
        name: np.linalg.eigvals(np.asarray(layer["w_hh"], np.float64))
        for name, layer in params["rnn"].items()
    }


def active_fraction(hidden_states: jax.Array) -> float:
    """The fraction of positive entries of ``hidden_states`` (active ReLUs).

    Args:
      hidden_states: states of any shape, e.g. ``[B, T, H]``.

    Returns:
      The fraction, in ``[0, 1]``, as a Python float.
    """
    return float(jnp.mean(hidden_states > 0))


def snapshot(
    model: linen.RNNModel,
    params: Any,
    inputs: jax.Array | Mapping[str, jax.Array],
    targets: jax.Array,
    loss_fn: Callable[[jax.Array, jax.Array], jax.Array],
) -> dict[str, Any]:
    """One JSON-ready record: state gradient norms, ``w_hh`` eigenvalues, active fraction.

    ``inputs`` is a task batch's inputs: features ``[B, T, D]``, or ``{'xs': ..., 'lengths': ...}``
    for end-padded sequences, supported with ``readout='sequence'`` (whose loss ignores padding).

    Args:
      model: a model :func:`check_supported` accepts.
      params: its parameters (the ``'params'`` collection).
      inputs: features ``[B, T, D]`` or ``{'xs': [B, T, D], 'lengths': [B]}`` (the model then runs
        on ``xs`` without ``lengths``).
      targets: the batch's targets, as ``loss_fn`` takes them.
      loss_fn: ``loss_fn(outputs, targets)``, the scalar batch loss.

    Returns:
      A dict of plain Python values, ``state_grad_norms`` (``[T]`` list, as
      :func:`state_gradient_norms`), ``eigenvalues_real`` and ``eigenvalues_imag`` (``[H]`` lists),
      ``spectral_radius`` and ``active_fraction`` (floats).

    Raises:
      ValueError: for a model :func:`check_supported` rejects, or inputs with ``lengths`` and
        ``readout='last'``.
    """
    xs = inputs
    if isinstance(inputs, Mapping):
        if model.readout == "last":
            raise ValueError("diagnostics of padded sequences (inputs with lengths) need readout='sequence'")
        xs = inputs["xs"]
    _, hs = _probed_apply(model, params, xs, zero_probes(model, params, xs))
    (eigenvalues,) = recurrent_eigenvalues(params).values()
    return {
        "state_grad_norms": state_gradient_norms(model, params, xs, targets, loss_fn).tolist(),
        "eigenvalues_real": eigenvalues.real.tolist(),
        "eigenvalues_imag": eigenvalues.imag.tolist(),
        "spectral_radius": float(np.max(np.abs(eigenvalues))),
        "active_fraction": active_fraction(hs),
    }
