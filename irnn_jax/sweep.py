"""Hyperparameter sweeps trained as ONE compiled program: ``vmap`` over the run axis.

A sweep is a config, a grid over ``optim.lr`` and ``optim.clip`` (the hyperparameters that
``optax.inject_hyperparams`` keeps in the optimiser state) and a number of seeds. Every run gets
the parameters and the batch stream that :func:`irnn_jax.train.fit` would give it for its seed
(runs with the same seed see the same batches), and one ``jax.vmap`` of the train step advances
all runs together; per-run learning rates and clips are arrays in the stacked optimiser state.
With several devices the run axis is sharded over them (:mod:`irnn_jax.sharding`).

A run whose loss or gradient becomes non-finite is marked diverged at that step and its result
is reported as such; the other runs go on.
"""

from __future__ import annotations

import functools
import itertools
import json
import pathlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from irnn_jax import checks, errors, models, optim, sharding, tasks, train, validation
from irnn_jax import workdir as workdir_lib

SWEEPABLE = {"optim.lr": "learning_rate", "optim.clip": "clip"}
HIGHER_IS_BETTER = ("accuracy",)
EXECUTIONS = ("vmap", "map")


def expand_grid(
    config: Mapping[str, Any], grid: Mapping[str, Sequence[float]], seeds: int
) -> list[dict[str, float]]:
    """One dict per run, ``{'optim.lr': ..., 'optim.clip': ..., 'seed': ...}``: the product of the
    grid's values and ``seeds`` seeds counting up from ``config.seed``."""
    checks.positive_int(seeds, "seeds")
    for field, values in grid.items():
        if field not in SWEEPABLE:
            raise ValueError(
                f"cannot sweep {field!r} in one compiled program; sweepable fields: {', '.join(SWEEPABLE)}"
            )
        if not values:
            raise ValueError(f"the grid of {field!r} has no values")
        for value in values:
            number = checks.finite_number(value, field)
            if number <= 0:
                raise ValueError(f"{field} values must be > 0, got {value!r}")
    fields = {"optim.lr": [config["optim"]["lr"]], "optim.clip": [config["optim"]["clip"]], **grid}
    base_seed = config["seed"]
    return [
        {"optim.lr": float(lr), "optim.clip": float(clip), "seed": base_seed + seed}
        for lr, clip, seed in itertools.product(fields["optim.lr"], fields["optim.clip"], range(seeds))
    ]


def run(
    config: Mapping[str, Any],
    grid: Mapping[str, Sequence[float]],
    seeds: int,
    workdir: str | pathlib.Path,
    *,
    execution: str = "vmap",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train every run of the sweep in one program; write ``sweep.json`` (per-run results and the
    best run by validation metric) and ``metrics.jsonl`` (per-run held-out lines) to ``workdir``.

    ``execution='vmap'`` batches the runs (one batched matmul per step for all runs: the fast
    choice on accelerators); ``'map'`` loops over them inside the program with ``lax.map``
    (no batched matmuls: on our 2-core CPU, batched small matmuls ran 1.8x slower than the
    same matmuls one by one, see ``benchmarks/sweep.py``). Both give the same results.
    """
    with errors.checking_config():
        checks.one_of(execution, EXECUTIONS, "execution")
        validation.validate(config)
        runs = expand_grid(config, grid, seeds)
        task = tasks.from_config(config["task"])
        if getattr(task, "carries_state", False):
            raise ValueError(
                "sweeps of tasks that carry state across batches are not supported; "
                "set task.carry_state=False"
            )
    workdir = workdir_lib.prepare(workdir)
    with workdir_lib.lock(workdir, log):
        return _run(config, task, runs, workdir, execution, log)


def _run(
    config: Mapping[str, Any],
    task: tasks.Task,
    runs: list[dict[str, float]],
    workdir: pathlib.Path,
    execution: str,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """:func:`run` on a checked config and grid, in a workdir this process holds."""
    settings = validation.TrainSettings.from_config(config["train"])
    steps, batch_size, eval_every = settings.steps, settings.batch_size, settings.eval_every
    eval_batch_size = settings.eval_batch_size
    task_name = config["task"]["name"]
    model = models.from_config(config["model"], task.output_size, getattr(task, "vocab_size", 0))
    tx = optim.make_optimizer(config["optim"])
    log(f"sweep of {len(runs)} runs in one program: {train.describe(config)}")
    workdir_lib.record_config(workdir, config)

    seeds_used = sorted({r["seed"] for r in runs})
    keys = {seed: jax.random.split(jax.random.PRNGKey(seed)) for seed in seeds_used}
    streams = {seed: task.batches("train", batch_size, keys[seed][1]) for seed in seeds_used}
    run_to_stream = np.array([seeds_used.index(r["seed"]) for r in runs])
    first = {seed: next(task.batches("train", batch_size, keys[seed][1])) for seed in seeds_used}
    train.check_memory(config, model, tx, task.loss, keys[seeds_used[0]][0], first[seeds_used[0]], len(runs))
    states = [train.create_train_state(model, tx, keys[r["seed"]][0], first[r["seed"]][0]) for r in runs]
    state = jax.tree.map(lambda *leaves: jnp.stack(leaves), *states)
    hyperparams = dict(state.opt_state.hyperparams)
    for field, name in SWEEPABLE.items():
        hyperparams[name] = jnp.asarray([r[field] for r in runs], hyperparams[name].dtype)
    state = state.replace(opt_state=state.opt_state._replace(hyperparams=hyperparams))
    mesh = sharding.mesh()
    if execution == "map" and len(runs) % mesh.devices.size:
        log(f"{len(runs)} runs do not split evenly over {mesh.devices.size} devices: mapping on one")
        mesh = sharding.mesh(jax.devices()[:1])
    state = sharding.shard_leading_axis(state, mesh)
    complete = getattr(task, "complete_metrics", lambda means: means)

    one_step = train.make_train_step(model.apply, task.loss, task.metrics, tx)
    step_fn = jax.jit(sweep_step(one_step, execution, mesh), donate_argnums=0)
    eval_fn = jax.jit(
        jax.vmap(
            lambda params, batch: train.make_eval_step(model.apply, task.metrics)(params, batch)[0],
            in_axes=(0, None),
        )
    )
    first_bad_step = jnp.zeros(len(runs), jnp.int32)  # 0: finite so far
    start = time.perf_counter()
    with (workdir / "metrics.jsonl").open("w") as metrics_file:
        for step in range(1, steps + 1):
            per_stream = [next(streams[seed]) for seed in seeds_used]
            shapes = sorted({str(jax.tree.map(np.shape, part)) for part in per_stream})
            if len(shapes) > 1:
                raise errors.ConfigError(
                    f"the {task_name} batches of different seeds differ in shape at step {step} "
                    f"({', '.join(shapes)}); sweep one seed at a time (--seeds 1) for this task"
                )
            batch = jax.tree.map(lambda *parts: np.stack(parts)[run_to_stream], *per_stream)
            state, metrics = step_fn(state, sharding.shard_leading_axis(batch, mesh))
            finite = functools.reduce(
                jnp.logical_and, [jnp.isfinite(metrics[name]) for name in ("loss", "grad_l2", "param_l2")]
            )
            first_bad_step = jnp.where((first_bad_step == 0) & ~finite, step, first_bad_step)  # no host sync
            if step % eval_every and step != steps:
                continue
            held_out = {}
            for split in ("valid", "test"):
                means = train.evaluate(
                    lambda params, batch, carry: (eval_fn(params, batch), carry),
                    state.params,
                    task.batches(split, eval_batch_size),
                )
                held_out[split] = [
                    complete({name: values[index] for name, values in means.items()})
                    for index in range(len(runs))
                ]
                for index, record in enumerate(held_out[split]):
                    metrics_file.write(
                        json.dumps({"step": step, "run": index, "split": split, **record}) + "\n"
                    )
            metrics_file.flush()
    wall = time.perf_counter() - start
    first_bad = np.asarray(first_bad_step)
    results = [
        {
            **r,
            "diverged_at": int(first_bad[index]) or None,
            "valid": held_out["valid"][index],
            "test": held_out["test"][index],
        }
        for index, r in enumerate(runs)
    ]
    summary = {
        "runs": results,
        "best": best_run(results, task.metric),
        "metric": task.metric,
        "baseline": task.baseline,
        "steps": steps,
        "execution": execution,
        "wall_s": round(wall, 2),
        "examples_per_s": len(runs) * steps * batch_size / wall,
        "config": json.loads(config.to_json()) if hasattr(config, "to_json") else dict(config),
    }
    (workdir / "sweep.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def sweep_step(
    train_step: Callable[[train.TrainState, train.Batch], tuple[train.TrainState, train.Metrics]],
    execution: str,
    device_mesh: jax.sharding.Mesh,
) -> Callable[[train.TrainState, train.Batch], tuple[train.TrainState, train.Metrics]]:
    """The step of all runs at once (stacked states and batches, run axis first): ``vmap`` of
    ``train_step``, or (``'map'``) a ``lax.map`` over the runs, each device looping over its own
    share of them (:func:`irnn_jax.sharding.per_device`)."""
    if execution == "vmap":
        return jax.vmap(train_step)
    return sharding.per_device(
        lambda state, batch: jax.lax.map(lambda pair: train_step(*pair), (state, batch)), device_mesh
    )


def best_run(results: Sequence[Mapping[str, Any]], metric: str) -> dict[str, Any] | None:
    """The run with the best validation ``metric`` among those that did not diverge."""
    candidates = [r for r in results if r["diverged_at"] is None and np.isfinite(r["valid"][metric])]
    if not candidates:
        return None
    sign = -1.0 if metric in HIGHER_IS_BETTER else 1.0
    return dict(min(candidates, key=lambda r: sign * r["valid"][metric]))
