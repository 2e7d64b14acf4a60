"""Training: a pure ``train_step``, ``evaluate``, and the ``fit`` loop that logs to ``metrics.jsonl``."""

from __future__ import annotations

import itertools
import json
import math
import pathlib
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax
import tqdm

from irnn_jax import checks, models, optim, tasks

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


class TrainingDivergedError(RuntimeError):
    """Raised when the loss or the gradient norm becomes non-finite."""


def create_train_state(
    model: Any,
    tx: optax.GradientTransformation,
    key: jax.Array,
    example_inputs: Inputs,
    carries_state: bool = False,
) -> TrainState:
    """Initialise the model's parameters from ``key`` and the optimiser state; with
    ``carries_state``, also a zero recurrent state shaped for ``example_inputs``' batch."""
    params = model.init(key, **_as_kwargs(example_inputs))["params"]
    carry = zero_carry(model, params, example_inputs) if carries_state else None
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params), carry=carry)


def zero_carry(model: Any, params: Any, example_inputs: Inputs) -> Any:
    """The all-zero recurrent state of ``model`` for a batch shaped like ``example_inputs``."""
    shapes = jax.eval_shape(
        lambda params: model.apply({"params": params}, **_as_kwargs(example_inputs), return_state=True)[1],
        params,
    )
    return jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), shapes)


def apply_model(
    apply_fn: Callable[..., Any], params: Any, inputs: Inputs, carry: Any = None
) -> tuple[jax.Array, Any]:
    """``(outputs, carry)``: the model on a batch's inputs (an array, or a dict of keyword
    arguments such as ``{'xs': ..., 'lengths': ...}``), starting from ``carry`` and returning
    the state after the batch when ``carry`` is not ``None`` (the returned carry is then
    excluded from differentiation: truncated BPTT)."""
    if carry is None:
        return apply_fn({"params": params}, **_as_kwargs(inputs)), None
    outputs, carry = apply_fn(
        {"params": params}, **_as_kwargs(inputs), initial_state=carry, return_state=True
    )
    return outputs, jax.lax.stop_gradient(carry)


def _as_kwargs(inputs: Inputs) -> dict[str, Any]:
    return dict(inputs) if isinstance(inputs, Mapping) else {"xs": inputs}


def make_train_step(
    apply_fn: Callable[..., jax.Array],
    loss_fn: Callable[[jax.Array, jax.Array], jax.Array],
    metrics_fn: Callable[[jax.Array, jax.Array], Metrics],
    tx: optax.GradientTransformation,
) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """Return the pure ``train_step(state, batch) -> (state, metrics)``; jit it once.

    The metrics are the loss, the task's metrics on the batch (before the update), and the
    l2 norms of the gradients, the updated parameters and the updates. A state with a ``carry``
    starts the batch from it and keeps the state after the batch (see :func:`apply_model`).
    """

    def train_step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        inputs, targets = batch

        def objective(params):
            outputs, carry = apply_model(apply_fn, params, inputs, state.carry)
            return loss_fn(outputs, targets), (outputs, carry)

        (loss, (outputs, carry)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = {
            "loss": loss,
            **metrics_fn(outputs, targets),
            "grad_l2": optax.tree.norm(grads),
            "param_l2": optax.tree.norm(params),
            "update_l2": optax.tree.norm(updates),
        }
        return TrainState(step=state.step + 1, params=params, opt_state=opt_state, carry=carry), metrics

    return train_step


EvalStep = Callable[[Any, Batch, Any], tuple[Metrics, Any]]


def make_eval_step(
    apply_fn: Callable[..., jax.Array], metrics_fn: Callable[[jax.Array, jax.Array], Metrics]
) -> EvalStep:
    """Return the pure ``eval_step(params, batch, carry) -> (metrics, carry)`` (batch means;
    ``carry`` is ``None`` unless the task carries state from one batch to the next)."""

    def eval_step(params: Any, batch: Batch, carry: Any = None) -> tuple[Metrics, Any]:
        inputs, targets = batch
        outputs, carry = apply_model(apply_fn, params, inputs, carry)
        return metrics_fn(outputs, targets), carry

    return eval_step


def evaluate(
    eval_step: EvalStep, params: Any, batches: Iterable[Batch], carry: Any = None
) -> dict[str, float]:
    """Average a (jitted) ``eval_step`` over ``batches``, threading ``carry`` through them.

    Each batch is weighted by its metrics' ``count`` (e.g. real frames or tokens) if they have
    one, else by its number of examples.
    """
    totals: dict[str, float] = {}
    count = 0.0
    for batch in batches:
        metrics, carry = eval_step(params, batch, carry)
        metrics = dict(metrics)
        size = float(metrics.pop("count")) if "count" in metrics else len(batch[1])
        for name, value in metrics.items():
            totals[name] = totals.get(name, 0.0) + float(value) * size
        count += size
    if count == 0:
        raise ValueError("evaluate got no batches")
    return {name: total / count for name, total in totals.items()}


def fit(
    config: Mapping[str, Any], workdir: str | pathlib.Path, *, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train the model a config describes; write ``metrics.jsonl`` and ``summary.json`` to ``workdir``.

    Every ``train.log_every`` steps one ``train`` line (window means of the step metrics and
    steps/s) goes to ``metrics.jsonl``; every ``train.eval_every`` steps and at the end, one
    ``valid``/``test`` line each. A non-finite loss or gradient stops training with
    :class:`TrainingDivergedError` naming the step.

    Returns:
      The summary: final held-out metrics, the task's baseline, steps, wall time.
    """
    train_config = config["train"]
    steps = checks.positive_int(train_config["steps"], "train.steps")
    batch_size = checks.positive_int(train_config["batch_size"], "train.batch_size")
    log_every = checks.positive_int(train_config["log_every"], "train.log_every")
    eval_every = checks.positive_int(train_config["eval_every"], "train.eval_every")
    eval_batch_size = checks.positive_int(train_config["eval_batch_size"], "train.eval_batch_size")
    task = tasks.from_config(config["task"])
    model = models.from_config(config["model"], task.output_size, getattr(task, "vocab_size", 0))
    carries_state = getattr(task, "carries_state", False)
    complete = getattr(task, "complete_metrics", lambda means: means)
    tx = optim.make_optimizer(config["optim"])

    log(describe(config))
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if hasattr(task, "artifacts"):
        np.savez(workdir / "task_artifacts.npz", **task.artifacts())
    init_key, data_key = jax.random.split(jax.random.PRNGKey(config["seed"]))
    train_batches = task.batches("train", batch_size, data_key)
    first_batch = next(train_batches)
    train_batches = itertools.chain([first_batch], train_batches)
    state = create_train_state(model, tx, init_key, first_batch[0], carries_state)
    train_step = jax.jit(make_train_step(model.apply, task.loss, task.metrics, tx), donate_argnums=0)
    eval_step = jax.jit(make_eval_step(model.apply, task.metrics))

    with (workdir / "metrics.jsonl").open("w") as metrics_file:

        def write(record: dict[str, Any]) -> None:
            metrics_file.write(json.dumps(record) + "\n")
            metrics_file.flush()

        def held_out_metrics(step: int) -> dict[str, dict[str, float]]:
            results = {}
            for split in ("valid", "test"):
                batches = task.batches(split, eval_batch_size)
                carry = None
                if carries_state:  # each held-out pass starts from the zero state
                    first = next(batches)
                    batches = itertools.chain([first], batches)
                    carry = zero_carry(model, state.params, first[0])
                results[split] = complete(evaluate(eval_step, state.params, batches, carry))
                write({"step": step, "split": split, **results[split]})
            return results

        start = time.perf_counter()
        held_out = held_out_metrics(0)
        window: list[Metrics] = []
        window_start = time.perf_counter()
        progress = tqdm.tqdm(total=steps, disable=not sys.stderr.isatty(), dynamic_ncols=True)
        for step, batch in zip(range(1, steps + 1), train_batches, strict=False):  # endless stream
            state, step_metrics = train_step(state, batch)
            window.append(step_metrics)
            if step % log_every == 0 or step == steps:
                record = complete(_window_record(window, step, window_start))
                write(record)
                progress.update(len(window))
                progress.set_postfix(loss=f"{record['loss']:.4g}")
                window, window_start = [], time.perf_counter()
            if step % eval_every == 0 or step == steps:
                held_out = held_out_metrics(step)
                log(
                    f"step {step:>7d}  {task.metric} valid {held_out['valid'][task.metric]:.5f}"
                    f"  test {held_out['test'][task.metric]:.5f}  (baseline {task.baseline:.4f})"
                )
                window_start = time.perf_counter()  # steps/s counts training only
        progress.close()
    summary = {
        "steps": steps,
        "wall_s": round(time.perf_counter() - start, 2),
        "metric": task.metric,
        "baseline": task.baseline,
        "valid": held_out["valid"],
        "test": held_out["test"],
        "config": json.loads(config.to_json()) if hasattr(config, "to_json") else dict(config),
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def describe(config: Mapping[str, Any]) -> str:
    """One line naming the task, model, optimiser and budget of a config."""

    def fields(section: Mapping[str, Any], skip: tuple[str, ...] = ("name",)) -> str:
        return " ".join(f"{key}={value}" for key, value in section.items() if key not in skip)

    def init(spec: Mapping[str, Any]) -> str:
        return f"{spec['name']}({fields(spec).replace(' ', ', ')})"

    model, optim_config, train_config = config["model"], config["optim"], config["train"]
    return (
        f"task {config['task']['name']} {fields(config['task'])} | model {model['cell']}, "
        f"{model['layers']} x {model['hidden_size']} units, w_hh {init(model['recurrent_init'])}, "
        f"w_ih {init(model['input_init'])} | optimiser {optim_config['name']} "
        f"{fields(optim_config)} | batch {train_config['batch_size']}, "
        f"{train_config['steps']} steps, seed {config['seed']}"
    )


def _window_record(window: list[Metrics], step: int, window_start: float) -> dict[str, Any]:
    """Window means of the step metrics and steps/s since ``window_start`` (read after the
    window's results are ready: dispatch is asynchronous); raise
    :class:`TrainingDivergedError` on a non-finite loss or gradient norm."""
    stacked = jax.device_get(jax.tree.map(lambda *values: jnp.stack(values), *window))
    seconds = time.perf_counter() - window_start
    first_step = step - len(window) + 1
    for offset in range(len(window)):
        if not (math.isfinite(stacked["loss"][offset]) and math.isfinite(stacked["grad_l2"][offset])):
            raise TrainingDivergedError(
                f"non-finite training at step {first_step + offset}: loss={stacked['loss'][offset]}, "
                f"grad_l2={stacked['grad_l2'][offset]}; lower optim.lr or optim.clip"
            )
    record = {"step": step, "split": "train"}
    record.update({name: float(np.mean(values)) for name, values in stacked.items() if name != "count"})
    record["steps_per_s"] = len(window) / seconds
    return record
