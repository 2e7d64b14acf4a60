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

from irnn_jax import checkpoint, diagnostics, errors, memory, models, optim, sharding, tasks, validation
from irnn_jax import workdir as workdir_lib
from irnn_jax.errors import WorkdirError

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
) -> tuple[jax.Array, Any, jax.Array | None]:
    """``(outputs, carry, active_fraction)``: the model on a batch's inputs (an array, or a dict of
    keyword arguments such as ``{'xs': ..., 'lengths': ...}``), starting from ``carry`` and
    returning the state after the batch when ``carry`` is not ``None`` (the returned carry is then
    excluded from differentiation: truncated BPTT). ``active_fraction`` is the mean fraction of
    positive ReLU states the model's layers sowed (``None`` for a model without ReLU layers)."""
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


def make_train_step(
    apply_fn: Callable[..., jax.Array],
    loss_fn: Callable[[jax.Array, jax.Array], jax.Array],
    metrics_fn: Callable[[jax.Array, jax.Array], Metrics],
    tx: optax.GradientTransformation,
) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """Return the pure ``train_step(state, batch) -> (state, metrics)``; jit it once.

    The metrics are the loss, the task's metrics on the batch (before the update), the l2 norms
    of the gradients, the updated parameters and the updates, and ``grad_finite`` and
    ``param_finite``, one flag per parameter array (in ``jax.tree.leaves`` order) telling whether
    its gradient and its updated value are finite; for ReLU networks also ``active_fraction``,
    the fraction of positive hidden states over the batch (the layers' sown intermediates). A
    state with a ``carry`` starts the batch from it and keeps the state after the batch (see
    :func:`apply_model`).
    """

    def train_step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        inputs, targets = batch

        def objective(params):
            outputs, carry, active = apply_model(apply_fn, params, inputs, state.carry)
            return loss_fn(outputs, targets), (outputs, carry, active)

        (loss, (outputs, carry, active)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = {
            "loss": loss,
            **metrics_fn(outputs, targets),
            "grad_l2": optax.tree.norm(grads),
            "grad_finite": jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(grads)]),
            "param_finite": jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(params)]),
            "param_l2": optax.tree.norm(params),
            "update_l2": optax.tree.norm(updates),
        }
        if active is not None:
            metrics["active_fraction"] = active
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
        outputs, carry, _ = apply_model(apply_fn, params, inputs, carry)
        return metrics_fn(outputs, targets), carry

    return eval_step


def evaluate(eval_step: EvalStep, params: Any, batches: Iterable[Batch], carry: Any = None) -> dict[str, Any]:
    """Average a (jitted) ``eval_step`` over ``batches``, threading ``carry`` through them.

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


def fit(
    config: Mapping[str, Any],
    workdir: str | pathlib.Path,
    *,
    resume: bool = False,
    command: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the model a config describes; write metrics, checkpoints and ``summary.json`` to ``workdir``.

    Every ``train.log_every`` steps one ``train`` line (window means of the step metrics and
    steps/s) goes to ``metrics.jsonl``; every ``train.eval_every`` steps and at the end, one
    ``valid``/``test`` line each. A checkpoint (:mod:`irnn_jax.checkpoint`) is written at step 0,
    every ``train.checkpoint_every`` steps and at the end, keeping the last
    ``train.keep_checkpoints``; a step is checkpointed only after all its steps were checked
    finite. With ``resume`` the run continues from the latest checkpoint: batch ``step`` is a pure
    function of the seed and the step, so the result is bit-identical to an uninterrupted run.
    With several devices, batches are split over them and the state is replicated
    (:mod:`irnn_jax.sharding`).

    The run holds ``workdir`` for its whole life (:mod:`irnn_jax.workdir`: a second run there is
    refused) and records its config in ``config.json``; a resume that changes more than
    :data:`irnn_jax.workdir.RESUMABLE_FIELDS` is refused, and a damaged checkpoint is set aside
    for the newest one that restores (:func:`irnn_jax.checkpoint.restore_latest`). Before
    anything is allocated, the memory the step needs is checked against the device's
    (:mod:`irnn_jax.memory`).

    A non-finite loss, gradient or parameter raises :class:`TrainingDivergedError` naming the step, the
    loss, the gradient norm and the non-finite gradients, leaving the checkpoints untouched. With
    ``train.on_divergence='rollback'`` the run instead restarts from the last checkpoint with the
    learning rate times ``train.rollback_lr_factor``, at most ``train.max_rollbacks`` times in all
    (a resumed run counts the rollbacks logged before it).

    Returns:
      The summary: final held-out metrics, the task's baseline, steps, wall time, and
      ``command``, the command line that made the run if given.

    Raises:
      ConfigError: a bad config, or one too large for the device's memory.
      WorkdirError: ``workdir`` is a file, held by another run, holds checkpoints without
        ``resume``, or cannot be resumed with this config.
    """
    validation.validate(config)
    workdir = workdir_lib.prepare(workdir)
    with workdir_lib.lock(workdir, log):
        return _fit(config, workdir, resume, command, log)


def _fit(
    config: Mapping[str, Any],
    workdir: pathlib.Path,
    resume: bool,
    command: str | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """:func:`fit` on a validated config, in a workdir this process holds."""
    settings = validation.TrainSettings.from_config(config["train"])
    steps, batch_size, eval_batch_size = settings.steps, settings.batch_size, settings.eval_batch_size
    task = tasks.from_config(config["task"])
    model = models.from_config(config["model"], task.output_size, getattr(task, "vocab_size", 0))
    tx = optim.make_optimizer(config["optim"])
    carries_state = getattr(task, "carries_state", False)
    complete = getattr(task, "complete_metrics", lambda means: means)

    log(describe(config))
    checkpoints = checkpoint.manager(workdir, settings.keep_checkpoints)
    latest = checkpoint.latest_step(checkpoints)
    if latest is not None and not resume:
        raise WorkdirError(
            f"{workdir} already holds checkpoints (latest step {latest}); resume with --resume "
            "or choose a new workdir"
        )
    if latest is not None:
        workdir_lib.check_resumable(workdir, config, log)
    else:
        workdir_lib.record_config(workdir, config)
    if hasattr(task, "artifacts"):
        np.savez(workdir / "task_artifacts.npz", **task.artifacts())
    init_key, data_key = jax.random.split(jax.random.PRNGKey(config["seed"]))
    with errors.checking_config():  # e.g. a batch larger than the training set
        first_batch = next(task.batches("train", batch_size, data_key))  # also the diagnostics' fixed batch
    check_memory(config, model, tx, task.loss, init_key, first_batch)
    state = create_train_state(model, tx, init_key, first_batch[0], carries_state)
    param_names = [
        jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(state.params)[0]
    ]
    start_step, rollbacks = 0, 0
    restored = checkpoint.restore_latest(checkpoints, state, log) if latest is not None else None
    if restored is not None:
        start_step, state = restored
        log(f"resuming from the checkpoint of step {start_step}")
        _drop_records_after(workdir, start_step, held_out_too=True)  # the resumed run re-evaluates it
        rollbacks = _logged_rollbacks(workdir)  # the budget of max_rollbacks goes on
    elif resume:
        log(f"no checkpoint in {workdir}: starting from step 0")
    device_mesh = sharding.mesh()  # data parallel: batches split over devices, state replicated
    state = sharding.replicate(state, device_mesh)
    train_step = jax.jit(make_train_step(model.apply, task.loss, task.metrics, tx), donate_argnums=0)
    eval_step = jax.jit(make_eval_step(model.apply, task.metrics))

    def on_devices(batches: Iterable[Batch]) -> Iterable[Batch]:
        return (sharding.shard_leading_axis(batch, device_mesh) for batch in batches)

    if restored is None:
        for name in ("metrics.jsonl", "diagnostics.jsonl"):
            (workdir / name).unlink(missing_ok=True)
    with (workdir / "metrics.jsonl").open("a") as metrics_file:  # append: a rollback truncates

        def write(record: dict[str, Any]) -> None:
            metrics_file.write(json.dumps(record) + "\n")
            metrics_file.flush()

        def held_out_metrics(step: int) -> dict[str, dict[str, float]]:
            results = {}
            for split in ("valid", "test"):
                batches = on_devices(task.batches(split, eval_batch_size))
                carry = None
                if carries_state:  # each held-out pass starts from the zero state
                    first = next(batches)
                    batches = itertools.chain([first], batches)
                    carry = zero_carry(model, state.params, first[0])
                results[split] = complete(evaluate(eval_step, state.params, batches, carry))
                write({"step": step, "split": split, **results[split]})
            return results

        def write_diagnostics(step: int) -> None:
            if settings.diagnostics_every and step % settings.diagnostics_every == 0:
                record = diagnostics.snapshot(model, state.params, *first_batch, task.loss)
                with (workdir / "diagnostics.jsonl").open("a") as file:
                    file.write(json.dumps({"step": step, **record}) + "\n")

        start = time.perf_counter()
        held_out: dict[str, dict[str, float]] = {}
        if start_step % settings.eval_every == 0 or start_step >= steps:  # as an uninterrupted run
            held_out = held_out_metrics(start_step)
        if restored is None:
            write_diagnostics(0)
            checkpoint.save(checkpoints, 0, state)
        step = start_step
        batches = on_devices(task.batches("train", batch_size, data_key, start_step=step))
        window: list[Metrics] = []
        window_start = time.perf_counter()
        progress = tqdm.tqdm(total=steps, initial=step, disable=not sys.stderr.isatty(), dynamic_ncols=True)
        while step < steps:
            state, step_metrics = train_step(state, next(batches))
            step += 1
            window.append(step_metrics)
            save_now = step % settings.checkpoint_every == 0 or step == steps
            evaluate_now = step % settings.eval_every == 0 or step == steps
            diagnose_now = settings.diagnostics_every and step % settings.diagnostics_every == 0
            if not (step % settings.log_every == 0 or save_now or evaluate_now or diagnose_now):
                continue
            try:
                record = complete(_window_record(window, step, window_start, param_names))
            except TrainingDivergedError as error:
                good_step = checkpoint.latest_step(checkpoints)
                if (
                    settings.on_divergence == "stop"
                    or rollbacks == settings.max_rollbacks
                    or good_step is None
                ):
                    raise
                rollbacks += 1
                learning_rate = (
                    float(state.opt_state.hyperparams["learning_rate"]) * settings.rollback_lr_factor
                )
                metrics_file.flush()
                _drop_records_after(workdir, good_step)  # the diverged attempt's lines
                state = checkpoint.restore(checkpoints, good_step, state)
                state = sharding.replicate(_with_learning_rate(state, learning_rate), device_mesh)
                log(
                    f"{error}; rolled back to step {good_step} with lr {learning_rate:.3g} "
                    f"(rollback {rollbacks} of at most {settings.max_rollbacks})"
                )
                write(
                    {
                        "step": good_step,
                        "split": "rollback",
                        "diverged_at": step,
                        "learning_rate": learning_rate,
                    }
                )
                step, window, window_start = good_step, [], time.perf_counter()
                batches = on_devices(task.batches("train", batch_size, data_key, start_step=step))
                progress.reset(total=steps)
                progress.update(step)
                continue
            write(record)
            progress.update(len(window))
            progress.set_postfix(loss=f"{record['loss']:.4g}")
            if save_now:
                checkpoint.save(checkpoints, step, state)
            write_diagnostics(step)
            if evaluate_now:
                held_out = held_out_metrics(step)
                log(
                    f"step {step:>7d}  {task.metric} valid {held_out['valid'][task.metric]:.5f}"
                    f"  test {held_out['test'][task.metric]:.5f}  (baseline {task.baseline:.4f})"
                )
            window, window_start = [], time.perf_counter()  # steps/s counts training only
        progress.close()
    summary = {
        "command": command,
        "steps": steps,
        "resumed_from": None if restored is None else start_step,
        "rollbacks": rollbacks,
        "wall_s": round(time.perf_counter() - start, 2),
        "metric": task.metric,
        "baseline": task.baseline,
        "valid": held_out["valid"],
        "test": held_out["test"],
        "config": json.loads(config.to_json()) if hasattr(config, "to_json") else dict(config),
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def check_memory(
    config: Mapping[str, Any],
    model: Any,
    tx: optax.GradientTransformation,
    loss_fn: Callable[[jax.Array, jax.Array], jax.Array],
    key: jax.Array,
    batch: Batch,
    runs: int = 1,
) -> None:
    """Refuse (``ConfigError``) a config whose ``runs`` training states and stored activations on
    ``batch`` cannot fit the device's memory (:mod:`irnn_jax.memory`), before allocating any."""
    inputs, targets = batch
    needed = memory.training_bytes(
        lambda: create_train_state(model, tx, key, inputs),
        lambda params: loss_fn(apply_model(model.apply, params, inputs)[0], targets),
    )
    model_config, batch_size = config["model"], config["train"]["batch_size"]
    memory.check_fits(
        needed, f"model.hidden_size={model_config['hidden_size']}, train.batch_size={batch_size}", runs
    )


def _with_learning_rate(state: TrainState, learning_rate: float) -> TrainState:
    """``state`` with the injected learning rate set to ``learning_rate``."""
    hyperparams = dict(state.opt_state.hyperparams)
    hyperparams["learning_rate"] = jnp.asarray(learning_rate, hyperparams["learning_rate"].dtype)
    return state.replace(opt_state=state.opt_state._replace(hyperparams=hyperparams))


def _logged_rollbacks(workdir: pathlib.Path) -> int:
    """How many rollbacks ``metrics.jsonl`` records."""
    path = workdir / "metrics.jsonl"
    if not path.exists():
        return 0
    return sum(json.loads(line).get("split") == "rollback" for line in path.read_text().splitlines())


def _drop_records_after(workdir: pathlib.Path, step: int, *, held_out_too: bool = False) -> None:
    """Remove the ``metrics.jsonl`` and ``diagnostics.jsonl`` lines of steps after ``step``
    (and with ``held_out_too`` the valid/test lines of ``step`` itself), which the continued run
    writes again; a line cut short by a kill is dropped too."""

    def keep(record: dict[str, Any]) -> bool:
        if held_out_too and record.get("split") in ("valid", "test"):
            return record["step"] < step
        return record["step"] <= step

    for name in ("metrics.jsonl", "diagnostics.jsonl"):
        path = workdir / name
        if path.exists():
            kept = []
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if keep(record):
                    kept.append(line + "\n")
            path.write_text("".join(kept))


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


def _window_record(
    window: list[Metrics], step: int, window_start: float, param_names: list[str]
) -> dict[str, Any]:
    """Window means of the step metrics and steps/s since ``window_start`` (read after the
    window's results are ready: dispatch is asynchronous).

    Raises:
      TrainingDivergedError: at the first step with a non-finite loss, gradient, update or
        updated parameter, naming the parameters (``param_names``, in leaf order) whose
        gradients or values are non-finite.
    """
    stacked = jax.device_get(jax.tree.map(lambda *values: jnp.stack(values), *window))
    seconds = time.perf_counter() - window_start
    first_step = step - len(window) + 1
    for offset in range(len(window)):
        grads_ok, params_ok = stacked["grad_finite"][offset], stacked["param_finite"][offset]
        norms_ok = all(
            math.isfinite(stacked[name][offset]) for name in ("loss", "grad_l2", "param_l2", "update_l2")
        )
        if not (norms_ok and grads_ok.all() and params_ok.all()):

            def names(flags: np.ndarray) -> str:
                return (
                    ", ".join(name for name, ok in zip(param_names, flags, strict=True) if not ok) or "none"
                )

            raise TrainingDivergedError(
                f"non-finite training at step {first_step + offset}: loss={stacked['loss'][offset]}, "
                f"grad_l2={stacked['grad_l2'][offset]}, param_l2={stacked['param_l2'][offset]}, "
                f"non-finite gradients: {names(grads_ok)}; non-finite parameters: {names(params_ok)}; "
                "lower optim.lr or optim.clip"
            )
    record = {"step": step, "split": "train"}
    record.update(
        {
            name: float(np.mean(values))
            for name, values in stacked.items()
            if name not in ("count", "grad_finite")
        }
    )
    record["steps_per_s"] = len(window) / seconds
    return record
