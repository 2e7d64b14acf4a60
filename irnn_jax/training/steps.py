"""The pure parts of training: ``TrainState``, the train and eval steps, and ``evaluate``.

Nothing here touches files or the clock; :mod:`irnn_jax.training.train` runs these in its loop and
:mod:`irnn_jax.training.sweep` vmaps them over runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

Inputs = jax.Array | Mapping[str, jax.Array]
Batch = tuple[Inputs, jax.Array]
Metrics = dict[str, jax.Array]


class TrainState(flax.struct.PyTreeNode):
    """Everything that changes during training: step counter, parameters, optimiser state, and
    for tasks that carry state (truncated BPTT) the recurrent state after the last window."""

    step: jax.Array
    params: Any
    opt_state: optax.OptState
    carry: Any = None


def create_train_state(
    model: Any,
    tx: optax.GradientTransformation,
    key: jax.Array,
    example_inputs: Inputs,
    carries_state: bool = False,
) -> TrainState:
    """Initialise the model's parameters from ``key`` and the optimiser state.

    Args:
      model: a Flax module (e.g. :class:`irnn_jax.models.RNNModel`).
      tx: the optax optimizer.
      key: the parameters' random key.
      example_inputs: a batch of inputs (an array ``[B, T, D]`` or a dict of the model's
        keyword arguments); only shapes and dtypes are used.
      carries_state: also make a zero recurrent state for ``example_inputs``' batch (a task
        trained with truncated BPTT).

    Returns:
      A :class:`TrainState` at step 0.
    """
    params = model.init(key, **_as_kwargs(example_inputs))["params"]
    carry = zero_carry(model, params, example_inputs) if carries_state else None
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params), carry=carry)


def zero_carry(model: Any, params: Any, example_inputs: Inputs) -> Any:
    """The all-zero recurrent state of ``model`` for a batch shaped like ``example_inputs``.

    Args:
      model: a Flax module that accepts ``return_state=True``.
      params: its parameters (only their shapes matter).
      example_inputs: a batch of inputs, as for :func:`create_train_state`.

    Returns:
      A pytree of zeros shaped like the state the model returns (per layer; ``(h, c)`` for LSTMs).
    """
    shapes = jax.eval_shape(
        lambda params: model.apply({"params": params}, **_as_kwargs(example_inputs), return_state=True)[1],
        params,
    )
    return jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), shapes)


def apply_model(
    apply_fn: Callable[..., Any], params: Any, inputs: Inputs, carry: Any = None
) -> tuple[jax.Array, Any, jax.Array | None]:
    """The model on a batch's inputs, with the state it carries and its ReLU activity.

    Args:
      apply_fn: the model's ``apply``.
      params: the model's parameters.
      inputs: an array ``[B, T, D]``, or a dict of keyword arguments such as
        ``{'xs': ..., 'lengths': ...}``.
      carry: the recurrent state to start from (truncated BPTT), or ``None`` for zeros.

    Returns:
      ``(outputs, carry, active_fraction)``: the model's outputs; the state after the batch when
      ``carry`` is not ``None`` (excluded from differentiation), else ``None``; the mean fraction
      of positive ReLU states the model's layers sowed (``None`` for a model without ReLU layers).
    """
    kwargs = _as_kwargs(inputs)
    if carry is not None:
        kwargs.update(initial_state=carry, return_state=True)
    result, sown = apply_fn({"params": params}, **kwargs, mutable=["intermediates"])
    outputs, carry = result if carry is not None else (result, None)
    fractions = jax.tree.leaves(sown.get("intermediates", {}))
    active = jnp.mean(jnp.stack(fractions)) if fractions else None
    return outputs, (None if carry is None else jax.lax.stop_gradient(carry)), active


def _as_kwargs(inputs: Inputs) -> dict[str, Any]:
    return dict(inputs) if isinstance(inputs, Mapping) else {"xs": inputs}


TrainStep = Callable[[TrainState, Batch], tuple[TrainState, Metrics]]


def make_train_step(
    apply_fn: Callable[..., Any],
    loss_and_metrics_fn: Callable[[Any, jax.Array], tuple[jax.Array, Metrics]],
    tx: optax.GradientTransformation,
) -> TrainStep:
    """Return the pure ``train_step(state, batch) -> (state, metrics)``; jit it once.

    Args:
      apply_fn: the model's ``apply``.
      loss_and_metrics_fn: ``(outputs, targets) -> (loss, metrics)``: the scalar loss,
        differentiated, and a dict of the task's metrics on the batch (a task's
        ``loss_and_metrics``; ``lambda outputs, targets: (loss(outputs, targets), {})`` for a
        bare loss).
      tx: the optax optimizer.

    Returns:
      ``train_step(state, batch) -> (state, metrics)``, one update of a :class:`TrainState` on an
      ``(inputs, targets)`` batch.

    The metrics are the loss, the task's metrics on the batch (before the update), the l2 norms
    of the gradients, the updated parameters and the updates, and ``grad_finite`` and
    ``param_finite``, one flag per parameter array (in ``jax.tree.leaves`` order) telling whether
    its gradient and its updated value are finite; for a task that carries state also
    ``state_rms``, the root mean square of the state carried to the next batch (a ReLU network's
    state can grow window after window); for ReLU networks also ``active_fraction``,
    the fraction of positive hidden states over the batch (the layers' sown intermediates). A
    state with a ``carry`` starts the batch from it and keeps the state after the batch (see
    :func:`apply_model`).
    """

    def train_step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        inputs, targets = batch

        def objective(params):
            outputs, carry, active = apply_model(apply_fn, params, inputs, state.carry)
            loss, batch_metrics = loss_and_metrics_fn(outputs, targets)
            return loss, (batch_metrics, carry, active)

        (loss, (batch_metrics, carry, active)), grads = jax.value_and_grad(objective, has_aux=True)(
            state.params
        )
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = {
            "loss": loss,
            **batch_metrics,
            "grad_l2": optax.tree.norm(grads),
            "grad_finite": jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(grads)]),
            "param_finite": jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(params)]),
            "param_l2": optax.tree.norm(params),
            "update_l2": optax.tree.norm(updates),
        }
        if active is not None:
            metrics["active_fraction"] = active
        if carry is not None:
            metrics["state_rms"] = _root_mean_square(carry)
        return TrainState(step=state.step + 1, params=params, opt_state=opt_state, carry=carry), metrics

    return train_step


def _root_mean_square(tree: Any) -> jax.Array:
    """The root mean square of every entry of ``tree``'s arrays, in float32."""
    leaves = jax.tree.leaves(tree)
    squares = sum(jnp.sum(jnp.square(leaf.astype(jnp.float32))) for leaf in leaves)
    return jnp.sqrt(squares / sum(leaf.size for leaf in leaves))


EvalStep = Callable[[Any, Batch, Any], tuple[Metrics, Any]]


def make_eval_step(
    apply_fn: Callable[..., jax.Array], metrics_fn: Callable[[jax.Array, jax.Array], Metrics]
) -> EvalStep:
    """Return the pure held-out step; jit it once.

    Args:
      apply_fn: the model's ``apply``.
      metrics_fn: ``metrics(outputs, targets) -> dict`` of the task's metrics (batch means).

    Returns:
      ``eval_step(params, batch, carry) -> (metrics, carry)``; ``carry`` is ``None`` unless the
      task carries state from one batch to the next.
    """

    def eval_step(params: Any, batch: Batch, carry: Any = None) -> tuple[Metrics, Any]:
        inputs, targets = batch
        outputs, carry, _ = apply_model(apply_fn, params, inputs, carry)
        return metrics_fn(outputs, targets), carry

    return eval_step


def evaluate(eval_step: EvalStep, params: Any, batches: Iterable[Batch], carry: Any = None) -> dict[str, Any]:
    """Average a (jitted) ``eval_step`` over ``batches``, threading ``carry`` through them.

    Args:
      eval_step: of :func:`make_eval_step`, jitted or vmapped over runs.
      params: the parameters to evaluate.
      batches: the ``(inputs, targets)`` batches, each used once.
      carry: the state to start the first batch from (a task that carries state), or ``None``.

    Returns:
      The weighted mean of each metric, by name.

    Raises:
      ValueError: ``batches`` was empty.

    Each batch is weighted by its metrics' ``count`` (e.g. real frames or tokens) if they have
    one, else by its number of examples. Metrics of a vmapped ``eval_step`` (one value per run)
    average to lists, scalar metrics to floats.
    """
    totals: dict[str, np.ndarray] = {}
    count: np.ndarray | float = 0.0
    for batch in batches:
        metrics, carry = eval_step(params, batch, carry)
        metrics = jax.device_get(dict(metrics))
        size = np.asarray(metrics.pop("count"), np.float64) if "count" in metrics else len(batch[1])
        for name, value in metrics.items():
            totals[name] = totals.get(name, 0.0) + np.asarray(value, np.float64) * size
        count = count + size
    if np.all(np.asarray(count) == 0):
        raise ValueError("evaluate got no batches")
    return {name: _to_python(total / count) for name, total in totals.items()}


def _to_python(value: np.ndarray) -> float | list[float]:
    return float(value) if np.ndim(value) == 0 else np.asarray(value).tolist()
