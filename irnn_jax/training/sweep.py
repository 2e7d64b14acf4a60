"""Hyperparameter sweeps trained as ONE compiled program: ``vmap`` over the run axis.

A sweep is a config, a grid over ``optim.lr`` and ``optim.clip`` (the hyperparameters that
``optax.inject_hyperparams`` keeps in the optimiser state) and over fields that decide only the
parameters' draw (``model.forget_bias``, an initialiser's numeric arguments such as
``model.recurrent_init.gain``), and a number of seeds. Every run gets
the parameters and the batch stream that :func:`irnn_jax.training.train.fit` would give it for its seed
(runs with the same seed see the same batches), and one ``jax.vmap`` of the train step advances
all runs together; per-run learning rates and clips are arrays in the stacked optimiser state.
With several devices the run axis is sharded over them (:mod:`irnn_jax.runtime.sharding`), in a job of
several processes over all of theirs (:mod:`irnn_jax.runtime.distributed`; only the main one writes).

A run whose loss or gradient becomes non-finite is marked diverged at that step and its result
is reported as such; the other runs go on.
"""

from __future__ import annotations

import itertools
import json
import pathlib
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from irnn_jax.core import checks, errors
from irnn_jax.runtime import distributed, sharding, stopping
from irnn_jax.tasks.base import higher_is_better
from irnn_jax.training import checkpoint, optim, parts, run_log, steps, train
from irnn_jax.training import workdir as workdir_lib

# The optimiser's hyperparameters a sweep varies inside one program (arrays in the stacked
# optimiser state), by config field.
SWEEPABLE = {"optim.lr": "learning_rate", "optim.clip": "clip"}
# Fields that only decide the parameters' draw (an initialiser's arguments, the LSTM's forget-gate
# bias) are swept too: each run's parameters are drawn with its values, the step is shared.
INIT_FIELD = re.compile(r"model\.(\w+_init\.(?!name$)\w+|forget_bias)")
EXECUTIONS = ("vmap", "map")
SPLITS = ("valid", "test")


def expand_grid(
    config: Mapping[str, Any], grid: Mapping[str, Sequence[float]], seeds: int
) -> list[dict[str, float]]:
    """The runs of a sweep: the product of the grid's values and the seeds.

    Args:
      config: the sweep's base config; its ``optim.lr``, ``optim.clip`` and ``seed`` fill the
        fields the grid does not sweep.
      grid: values by dotted field: ``optim.lr`` and ``optim.clip`` (positive), or an
        initialisation field (``model.forget_bias``, ``model.recurrent_init.gain``, ...).
      seeds: how many seeds per grid point, counting up from ``config.seed``.

    Returns:
      One dict per run, ``{'optim.lr': ..., 'optim.clip': ..., <grid fields>, 'seed': ...}``.

    Raises:
      ValueError: a field that cannot be swept in one program or that the config lacks, an empty
        grid, a value that is not a finite number (or not positive for a rate or clip), or
        ``seeds`` below 1.
    """
    checks.positive_int(seeds, "seeds")
    for field, values in grid.items():
        if field not in SWEEPABLE and not INIT_FIELD.fullmatch(field):
            raise ValueError(
                f"cannot sweep {field!r} in one compiled program; sweepable fields: {', '.join(SWEEPABLE)}, "
                "model.forget_bias and the numeric arguments of the model's initialisers "
                "(model.recurrent_init.gain, ...); other fields change the program: one sweep per value"
            )
        if field not in SWEEPABLE and _value_at(workdir_lib.as_dict(config), field) is None:
            raise ValueError(f"cannot sweep {field!r}: the config has no such field")
        if not values:
            raise ValueError(f"the grid of {field!r} has no values")
        for value in values:
            number = checks.finite_number(value, field)
            if field in SWEEPABLE and number <= 0:
                raise ValueError(f"{field} values must be > 0, got {value!r}")
    fields = {"optim.lr": [config["optim"]["lr"]], "optim.clip": [config["optim"]["clip"]], **grid}
    base_seed = config["seed"]
    return [
        {**dict(zip(fields, map(float, values), strict=True)), "seed": base_seed + seed}
        for *values, seed in itertools.product(*fields.values(), range(seeds))
    ]


def _value_at(config: Mapping[str, Any], field: str) -> Any:
    """The value of the dotted ``field`` in ``config``, or ``None`` where it has none."""
    node: Any = config
    for part in field.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def run_config(config: Mapping[str, Any], run: Mapping[str, float]) -> dict[str, Any]:
    """The config of one run of a sweep.

    Args:
      config: the sweep's config.
      run: one run of :func:`expand_grid`, or an entry of ``sweep.json``'s ``runs`` (its
        results, the keys without a dot, are left out).

    Returns:
      ``config`` as a plain dict with the run's seed and grid values set.
    """
    result = workdir_lib.as_dict(config)
    for field, value in run.items():
        if field != "seed" and "." not in field:
            continue
        *parents, leaf = ["seed"] if field == "seed" else field.split(".")
        node = result
        for part in parents:
            node = node[part]
        node[leaf] = int(value) if field == "seed" else value
    return result


def fit(
    config: Mapping[str, Any],
    grid: Mapping[str, Sequence[float]],
    seeds: int,
    workdir: str | pathlib.Path,
    *,
    execution: str = "vmap",
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train every run of the sweep in one program; write ``sweep.json`` (per-run results and the
    best run by validation metric) and ``metrics.jsonl`` (per-run held-out lines) to ``workdir``.

    Args:
      config: the base config of every run (as for :func:`irnn_jax.training.train.fit`).
      grid: the values to sweep by dotted field (:func:`expand_grid`).
      seeds: seeds per grid point.
      workdir: the sweep's directory, created if missing; locked while the sweep runs.
      execution: ``'vmap'`` or ``'map'`` (below).
      resume: continue from the sweep's latest checkpoint, bit-identically to a sweep not
        stopped (the same config, grid, seeds and execution).
      log: where progress lines go.

    Returns:
      The summary written to ``sweep.json``: ``runs`` (each run's grid values and seed, its final
      ``valid`` and ``test`` metrics, ``best_step`` and ``diverged_at``), ``best`` (the entry of
      the run with the best final validation metric, :func:`best_run`), the metric, budget,
      speed and ``config``.

    Raises:
      ConfigError: a bad config, grid or ``execution``, or a task that carries state.
      WorkdirError: ``workdir`` is locked by another process, holds a sweep's checkpoints
        without ``resume``, or one of another config, grid, seeds or execution.
      StoppedError: SIGTERM or SIGINT arrived; the sweep checkpointed the step it reached
        (:mod:`irnn_jax.runtime.stopping`).

    Like a run of :func:`irnn_jax.training.train.fit`, a sweep checkpoints all runs' states
    (with each run's parameters at its best validation point and the step it diverged at)
    every ``train.checkpoint_every`` steps, at its end and when a signal stops it. Each run's
    final parameters and those at its best validation point go to ``sweep_params.npz``;
    :func:`load_run` reads a run back (the winner: ``summary["best"]``).

    ``execution='vmap'`` batches the runs (one batched matmul per step for all runs: the fast
    choice on accelerators); ``'map'`` loops over them inside the program with ``lax.map`` (no
    batched matmuls, the faster choice on CPUs: ``benchmarks/sweep.py`` measures both). The two
    compute the same updates with their sums in a different order, so they agree to float32
    rounding, not bit for bit: on a smooth stretch of training the difference stays at that
    level, but a run in a chaotic phase (leaving a plateau, a loss spike, the edge of
    divergence) amplifies it, and after thousands of steps runs that score alike can trade
    places, so the two may name different winners among near-equal runs. The same holds
    between a sweep's run and :func:`irnn_jax.training.train.fit` of its config, whose step is
    not batched.
    """
    built, runs = _checked(config, grid, seeds, execution)
    workdir = workdir_lib.prepare(workdir)
    with stopping.catching(log) as stop:
        if not distributed.is_main():  # the main process logs, writes and holds the workdir for all
            return _fit(built, runs, workdir, execution, resume, distributed.main_only(log), stop)
        with workdir_lib.lock(workdir, log):
            return _fit(built, runs, workdir, execution, resume, log, stop)


def _checked(
    config: Mapping[str, Any], grid: Mapping[str, Sequence[float]], seeds: int, execution: str
) -> tuple[parts.RunParts, list[dict[str, float]]]:
    """The built run and the sweep's runs, or a ConfigError for a bad config, grid or
    ``execution``, or a task that carries state."""
    with errors.checking_config():
        checks.one_of(execution, EXECUTIONS, "execution")
    built = parts.build(config)
    with errors.checking_config():
        runs = expand_grid(config, grid, seeds)
        if built.task.carries_state:
            raise ValueError(
                "sweeps of tasks that carry state across batches are not supported; "
                "set task.carry_state=False"
            )
    return built, runs


def _fit(
    built: parts.RunParts,
    runs: list[dict[str, float]],
    workdir: pathlib.Path,
    execution: str,
    resume: bool,
    log: Callable[[str], None],
    stop: stopping.StopRequest,
) -> dict[str, Any]:
    """:func:`fit` of a built run and a checked grid, in a workdir this process holds."""
    settings = built.settings
    log(f"sweep of {len(runs)} runs in one program: {train.describe(built.config)}")
    mesh = _runs_mesh(len(runs), execution, log)
    checkpoints = checkpoint.manager(workdir, settings.keep_checkpoints)
    try:
        step, carried = _start(built, runs, workdir, execution, checkpoints, resume, mesh, log)
        sweep = _Sweep(built, runs, workdir, mesh, checkpoints, step, carried)
        began = time.perf_counter()
        if step and (step % settings.eval_every == 0 or step == settings.steps):
            sweep.evaluate(step)  # the held-out pass of the checkpoint's step comes again
        step_fn = jax.jit(sweep_step(built.train_step(), execution, mesh), donate_argnums=0)
        batches = _batches(built, runs, step)
        while sweep.step < settings.steps:
            sweep.advance(step_fn, sharding.shard_leading_axis(next(batches), mesh))
            last, step = sweep.step == settings.steps, sweep.step
            save_now = step % settings.checkpoint_every == 0 or last
            evaluate_now = step % settings.eval_every == 0 or last
            signalled = stop.due(save_now or evaluate_now)
            if evaluate_now:
                sweep.evaluate(step)
            if save_now or signalled:
                sweep.save()
            if signalled:
                raise stop.stopped(
                    step,
                    f"the sweep's checkpoint is in {workdir / workdir_lib.CHECKPOINTS_DIR}, its held-out "
                    f"lines up to it in {workdir / workdir_lib.METRICS_FILE}",
                    "continue with --resume (sweep.fit(..., resume=True)), bit-identically to a sweep "
                    "not stopped",
                )
        wall = time.perf_counter() - began
    finally:
        checkpoints.close()
    return sweep.finish(execution, wall)


def _start(
    built: parts.RunParts,
    runs: list[dict[str, float]],
    workdir: pathlib.Path,
    execution: str,
    checkpoints: Any,
    resume: bool,
    mesh: jax.sharding.Mesh,
    log: Callable[[str], None],
) -> tuple[int, dict[str, Any]]:
    """Claim ``workdir`` for the sweep (its config and runs recorded, or checked against the
    recorded ones on a resume); return the step it starts at and what it carries from step to
    step (``state``, each run's ``best`` parameters and ``first_bad`` step), on ``mesh``."""
    latest = checkpoint.latest_step(checkpoints)
    if latest is not None and not resume:
        raise errors.WorkdirError(
            f"{workdir} already holds a sweep's checkpoints (latest step {latest}); resume it (--resume, "
            "or sweep.fit(..., resume=True)) or choose a new workdir"
        )
    recorded = {"execution": execution, "runs": runs}
    if latest is not None:
        workdir_lib.check_resumable(workdir, built.config, log)
        _check_same_runs(workdir, recorded)
    distributed.barrier("config checked")  # by every process, before the main one rewrites it
    if distributed.is_main():
        workdir_lib.record_config(workdir, built.config)
        workdir_lib.write_text(workdir / workdir_lib.SWEEP_RUNS_FILE, json.dumps(recorded, indent=1) + "\n")
    state = _initial_state(built, runs)
    carried = {
        "state": state,
        "best": jax.tree.map(jnp.copy, state.params),
        "first_bad": np.zeros(len(runs), np.int32),  # 0: finite so far
    }
    restored = checkpoint.restore_latest(checkpoints, carried, log) if latest is not None else None
    step = 0
    if restored is not None:
        step, carried = restored
        log(f"resuming the sweep from the checkpoint of step {step}")
    elif resume:
        log(f"no checkpoint in {workdir}: starting the sweep from step 0")
    return step, sharding.shard_leading_axis(carried, mesh)


def _check_same_runs(workdir: pathlib.Path, recorded: Mapping[str, Any]) -> None:
    """Refuse to resume a sweep with other runs (grid, seeds) or another execution."""
    path = workdir / workdir_lib.SWEEP_RUNS_FILE
    before = json.loads(path.read_text()) if path.is_file() else None
    if before != json.loads(json.dumps(recorded)):
        raise errors.WorkdirError(
            f"--resume of the sweep in {workdir} with another grid, seeds or execution than {path} "
            "records; resume it with the same ones or choose a new workdir"
        )


class _Sweep:
    """A sweep as it trains: what it carries from step to step (all runs' stacked ``state``,
    their ``best`` parameters, the ``first_bad`` step of each), its step, log and checkpoints."""

    def __init__(
        self,
        built: parts.RunParts,
        runs: list[dict[str, float]],
        workdir: pathlib.Path,
        mesh: jax.sharding.Mesh,
        checkpoints: Any,
        step: int,
        carried: dict[str, Any],
    ) -> None:
        self.built, self.runs, self.workdir, self.mesh = built, runs, workdir, mesh
        self.checkpoints, self.step, self.carried = checkpoints, step, carried
        resumed_from = step if step else None
        self.records = run_log.RunLog(workdir, resumed_from=resumed_from, writes=distributed.is_main())
        self.best = _BestParams(carried["best"], built.task.metric, len(runs))
        self.best.restart(self.records.records())
        self.resumed_from = resumed_from
        self.held_out: dict[str, list[dict[str, float]]] = {}
        self.eval_fn = jax.jit(
            jax.vmap(lambda params, batch: built.eval_step()(params, batch)[0], in_axes=(0, None))
        )

    def advance(self, step_fn: Callable[..., Any], batch: steps.Batch) -> None:
        """Make one step of every run; mark the runs whose step was not finite (no host sync)."""
        state, metrics = step_fn(self.carried["state"], batch)
        self.step += 1
        first_bad = self.carried["first_bad"]
        first_bad = jnp.where((first_bad == 0) & ~run_log.finite(metrics), self.step, first_bad)
        self.carried = {**self.carried, "state": state, "first_bad": first_bad}

    def evaluate(self, step: int) -> None:
        """Evaluate every run on both held-out splits, log them and keep the better parameters."""
        built, params = self.built, self.carried["state"].params
        self.held_out = {
            split: _evaluate_runs(built, self.eval_fn, params, split, len(self.runs), self.mesh)
            for split in SPLITS
        }
        self.best.update(params, step, [record[built.task.metric] for record in self.held_out["valid"]])
        self.carried = {**self.carried, "best": self.best.params}
        for split in SPLITS:
            for index, record in enumerate(self.held_out[split]):
                self.records.write({"step": step, "run": index, "split": split, **record})

    def save(self) -> None:
        """Checkpoint what the sweep carries at its step."""
        checkpoint.save(self.checkpoints, self.step, self.carried)

    def finish(self, execution: str, wall: float) -> dict[str, Any]:
        """Write every run's final and best parameters and ``sweep.json``; return the summary."""
        final, first_bad, kept = sharding.to_host(  # by every process
            (self.carried["state"].params, self.carried["first_bad"], self.best.params), self.mesh
        )
        if distributed.is_main():
            _save_params(self.workdir, final, kept)
        return _write_summary(
            self.built,
            self.runs,
            self.workdir,
            execution,
            wall,
            self.held_out,
            self.best.steps,
            first_bad,
            self.resumed_from,
        )


def _write_summary(
    built: parts.RunParts,
    runs: list[dict[str, float]],
    workdir: pathlib.Path,
    execution: str,
    wall: float,
    held_out: dict[str, list[dict[str, float]]],
    best_steps: list[int],
    first_bad: np.ndarray,
    resumed_from: int | None,
) -> dict[str, Any]:
    """The sweep's ``sweep.json`` (written by the main process): each run's results, the best
    run, the budget and the speed (of the steps this process trained)."""
    settings, task = built.settings, built.task
    results = [
        {
            **r,
            "diverged_at": int(first_bad[index]) or None,
            "valid": held_out["valid"][index],
            "test": held_out["test"][index],
            "best_step": best_steps[index],
        }
        for index, r in enumerate(runs)
    ]
    summary = {
        "runs": results,
        "best": best_run(results, task.metric),
        "metric": task.metric,
        "baseline": task.baseline,
        "steps": settings.steps,
        "resumed_from": resumed_from,
        "execution": execution,
        "wall_s": round(wall, 2),
        "examples_per_s": len(runs) * (settings.steps - (resumed_from or 0)) * settings.batch_size / wall,
        "config": workdir_lib.as_dict(built.config),
    }
    if distributed.is_main():
        workdir_lib.write_text(workdir / workdir_lib.SWEEP_FILE, json.dumps(summary, indent=2) + "\n")
    return summary


class _BestParams:
    """Each run's parameters at its best validation point so far (stacked along the run axis,
    kept on the devices), and the step of that point."""

    def __init__(self, params: Any, metric: str, count: int) -> None:
        self.params = jax.tree.map(jnp.copy, params)  # the step donates the state's own buffers
        self.metric, self.sign = metric, -1.0 if higher_is_better(metric) else 1.0  # lower signed: better
        self.values, self.steps = [np.inf] * count, [0] * count

    def restart(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Rebuild each run's best value and step from the sweep's held-out lines (a resumed
        sweep; the parameters of those points come back with its checkpoint).

        Args:
          lines: the ``metrics.jsonl`` records in order, cut back to where the sweep goes on.
        """
        for line in lines:
            if line.get("split") == "valid":
                index, value = line["run"], self.sign * line[self.metric]
                if np.isfinite(value) and value < self.values[index]:
                    self.values[index], self.steps[index] = value, line["step"]

    def update(self, params: Any, step: int, valid: Sequence[float]) -> None:
        """Keep ``params`` of the runs whose ``valid`` metric at ``step`` beats their best."""
        better = [
            bool(np.isfinite(value) and self.sign * value < best)
            for value, best in zip(valid, self.values, strict=True)
        ]
        if not any(better):
            return
        for index in np.flatnonzero(better):
            self.values[index], self.steps[index] = self.sign * valid[index], step
        mask = jnp.asarray(better)
        self.params = jax.tree.map(
            lambda new, kept: jnp.where(mask.reshape((-1,) + (1,) * (new.ndim - 1)), new, kept),
            params,
            self.params,
        )


def _save_params(workdir: pathlib.Path, final: Any, best: Any) -> None:
    """Write every run's final and best parameters (run axis first) to ``sweep_params.npz``."""
    arrays = {}
    for which, tree in (("final", final), ("best", best)):
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
            arrays[f"{which}{jax.tree_util.keystr(path)}"] = np.asarray(leaf)
    workdir_lib.write_arrays(workdir / workdir_lib.SWEEP_PARAMS_FILE, arrays)


def load_run(workdir: str | pathlib.Path, index: int, which: str = "best") -> tuple[parts.RunParts, Any]:
    """Run ``index`` of a finished sweep and its parameters.

    Args:
      workdir: the sweep's workdir.
      index: the run's position in ``sweep.json``'s ``runs`` (the winner is the entry equal to
        its ``best``).
      which: ``'best'`` (at its best validation point, the step ``sweep.json`` records as
        ``best_step``) or ``'final'``.

    Returns:
      ``(run, params)``: ``run.model.apply({"params": params}, xs)`` evaluates it; a config for
      ``train`` of the same run is ``run.config``.

    Raises:
      WorkdirError: ``workdir`` holds no finished sweep.
      ValueError: ``index`` is not a run of it, or ``which`` is neither 'best' nor 'final'.
    """
    workdir = pathlib.Path(workdir)
    checks.one_of(which, ("best", "final"), "which")
    summary_path, params_path = workdir / workdir_lib.SWEEP_FILE, workdir / workdir_lib.SWEEP_PARAMS_FILE
    if not (summary_path.is_file() and params_path.is_file()):
        raise errors.WorkdirError(
            f"{workdir} holds no finished sweep "
            f"({workdir_lib.SWEEP_FILE} and {workdir_lib.SWEEP_PARAMS_FILE})"
        )
    summary = json.loads(summary_path.read_text())
    if not (isinstance(index, int) and 0 <= index < len(summary["runs"])):
        raise ValueError(f"the sweep has runs 0 to {len(summary['runs']) - 1}, got index={index!r}")
    run = parts.build(run_config(summary["config"], summary["runs"][index]))
    template = run.init_state(jax.random.PRNGKey(0), next(run.task.batches("valid", 2))[0]).params
    stored = np.load(params_path)
    params = jax.tree_util.tree_map_with_path(
        lambda path, _: jnp.asarray(stored[f"{which}{jax.tree_util.keystr(path)}"][index]), template
    )
    return run, params


def _runs_mesh(num_runs: int, execution: str, log: Callable[[str], None]) -> jax.sharding.Mesh:
    """The devices the runs are spread over: all of them, or for ``'map'`` with runs that do not
    split evenly over them, one device (refused in a job of several processes)."""
    mesh = sharding.mesh()
    if execution == "map" and num_runs % mesh.devices.size:
        if jax.process_count() > 1:
            raise errors.ConfigError(
                f"{num_runs} runs do not split evenly over the {mesh.devices.size} devices of "
                f"{jax.process_count()} processes; choose grid x seeds divisible by {mesh.devices.size}"
            )
        log(f"{num_runs} runs do not split evenly over {mesh.devices.size} devices: mapping on one")
        mesh = sharding.mesh(jax.devices()[:1])
    log(f"{num_runs} runs over {mesh.devices.size} devices of {jax.process_count()} processes")
    return mesh


def _seed_keys(runs: Sequence[Mapping[str, float]]) -> dict[int, jax.Array]:
    """Each seed's ``(init, data)`` keys, as :func:`irnn_jax.training.train.fit` splits them."""
    return {seed: jax.random.split(jax.random.PRNGKey(seed)) for seed in sorted({r["seed"] for r in runs})}


def _initial_state(built: parts.RunParts, runs: list[dict[str, float]]) -> steps.TrainState:
    """The runs' states stacked along a leading run axis, with each run's learning rate and
    clip. Every run gets the parameters that :func:`irnn_jax.training.train.fit` would give its
    seed; the memory all runs need is checked first."""
    keys = _seed_keys(runs)
    first = {
        seed: next(built.task.batches("train", built.settings.batch_size, key[1]))
        for seed, key in keys.items()
    }
    some_seed = runs[0]["seed"]
    built.check_memory(keys[some_seed][0], first[some_seed], len(runs))
    states = [_run_parts(built, r).init_state(keys[r["seed"]][0], first[r["seed"]][0]) for r in runs]
    state = jax.tree.map(lambda *leaves: jnp.stack(leaves), *states)
    hyperparams = {name: [r[field] for r in runs] for field, name in SWEEPABLE.items()}
    return state.replace(opt_state=optim.set_hyperparams(state.opt_state, **hyperparams))


def _batches(built: parts.RunParts, runs: list[dict[str, float]], start_step: int) -> Iterator[steps.Batch]:
    """The stacked training batches of the steps after ``start_step``: each run those that
    :func:`irnn_jax.training.train.fit` would give its seed there."""
    keys = _seed_keys(runs)
    streams = [
        built.task.batches("train", built.settings.batch_size, key[1], start_step=start_step)
        for key in keys.values()
    ]
    stream_of_run = [list(keys).index(r["seed"]) for r in runs]
    return _stacked(built.config["task"]["name"], streams, stream_of_run, start_step)


def _run_parts(built: parts.RunParts, run: Mapping[str, float]) -> parts.RunParts:
    """The parts of one run: ``built`` itself, or rebuilt where the run sweeps fields that decide
    the parameters' draw (the model's step is the same; only its initialisers differ)."""
    if not any(INIT_FIELD.fullmatch(field) for field in run):
        return built
    return parts.build(run_config(built.config, run))


def _stacked(
    task_name: str, streams: list[Iterator[steps.Batch]], stream_of_run: list[int], start_step: int
) -> Iterator[steps.Batch]:
    """Each step's batches of the seeds' ``streams``, stacked in run order (runs of one seed
    share its batches), from the step after ``start_step``."""
    for step in itertools.count(start_step + 1):
        per_stream = [next(stream) for stream in streams]
        shapes = sorted({str(jax.tree.map(np.shape, part)) for part in per_stream})
        if len(shapes) > 1:
            raise errors.ConfigError(
                f"the {task_name} batches of different seeds differ in shape at step {step} "
                f"({', '.join(shapes)}); sweep one seed at a time (--seeds 1) for this task"
            )
        yield jax.tree.map(lambda *parts: np.stack(parts)[stream_of_run], *per_stream)


def _evaluate_runs(
    built: parts.RunParts,
    eval_fn: Callable[..., steps.Metrics],
    params: Any,
    split: str,
    count: int,
    mesh: jax.sharding.Mesh,
) -> list[dict[str, float]]:
    """The held-out means of each of ``count`` stacked runs (spread over ``mesh``) on ``split``."""

    def evaluate_batch(params: Any, batch: steps.Batch, carry: None) -> tuple[steps.Metrics, None]:
        return sharding.to_host(eval_fn(params, sharding.replicate(batch, mesh)), mesh), carry

    means = steps.evaluate(
        evaluate_batch,
        params,
        built.task.batches(split, built.settings.eval_batch_size),
    )
    return [
        built.task.complete_metrics({name: values[index] for name, values in means.items()})
        for index in range(count)
    ]


def sweep_step(
    train_step: Callable[[steps.TrainState, steps.Batch], tuple[steps.TrainState, steps.Metrics]],
    execution: str,
    device_mesh: jax.sharding.Mesh,
) -> Callable[[steps.TrainState, steps.Batch], tuple[steps.TrainState, steps.Metrics]]:
    """The step of all runs at once.

    Args:
      train_step: one run's step (:func:`irnn_jax.training.steps.make_train_step`).
      execution: ``'vmap'`` (batched) or ``'map'`` (a ``lax.map`` over the runs, each device
        looping over its own share of them, :func:`irnn_jax.runtime.sharding.per_device`).
      device_mesh: the mesh the runs are spread over (used by ``'map'``).

    Returns:
      ``step(states, batches) -> (states, metrics)`` on stacked states and batches, run axis
      first.
    """
    if execution == "vmap":
        return jax.vmap(train_step)
    return sharding.per_device(
        lambda state, batch: jax.lax.map(lambda pair: train_step(*pair), (state, batch)), device_mesh
    )


def best_run(results: Sequence[Mapping[str, Any]], metric: str) -> dict[str, Any] | None:
    """The run with the best validation ``metric`` among those that did not diverge.

    Args:
      results: the runs' results, each with ``diverged_at`` and a ``valid`` dict of metrics.
      metric: the metric to rank by; its direction comes from
        :func:`irnn_jax.tasks.base.higher_is_better`.

    Returns:
      A copy of the best run's entry, or ``None`` if every run diverged.
    """
    candidates = [r for r in results if r["diverged_at"] is None and np.isfinite(r["valid"][metric])]
    if not candidates:
        return None
    sign = -1.0 if higher_is_better(metric) else 1.0
    return dict(min(candidates, key=lambda r: sign * r["valid"][metric]))
