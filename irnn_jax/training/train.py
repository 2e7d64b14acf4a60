"""Training: the ``fit`` loop that trains one run and logs it to its workdir.

The pure parts (``TrainState``, the train and eval steps, ``evaluate``) live in
:mod:`irnn_jax.training.steps` and the run's log, guard and rollback in
:mod:`irnn_jax.training.run_log`; both are re-exported here, the one module a training script
needs.

What a run writes: every ``train.log_every`` steps one ``train`` line (window means of the step
metrics, the learning rate and steps/s) to ``metrics.jsonl``; every ``train.eval_every`` steps
and at the end, one ``valid``/``test`` line each. A checkpoint
(:mod:`irnn_jax.training.checkpoint`) at step 0, every ``train.checkpoint_every`` steps and at the
end, keeping the last ``train.keep_checkpoints``; a step is checkpointed only after all its steps
were checked finite. A resumed run continues from the latest checkpoint: batch ``step`` is a pure
function of the seed and the step, so the result is bit-identical to an uninterrupted run.

The run records its config in ``config.json``; a resume that changes more than
:data:`irnn_jax.training.workdir.RESUMABLE_FIELDS` is refused, and a damaged checkpoint is set
aside for the newest one that restores (:func:`irnn_jax.training.checkpoint.restore_latest`).
Before anything is allocated, the memory the step needs is checked against the device's
(:mod:`irnn_jax.training.memory`). With several devices, batches are split over them and the
state is replicated (:mod:`irnn_jax.runtime.sharding`); in a job of several processes
(:mod:`irnn_jax.runtime.distributed`) those are all the processes' devices, every process calls
``fit`` alike, and only the main one holds the workdir, logs and writes its files (all of them
checkpoint, through orbax).

A non-finite loss, gradient or parameter raises :class:`TrainingDivergedError` naming the step,
the loss, the gradient norm and the non-finite gradients, leaving the checkpoints untouched. With
``train.on_divergence='rollback'`` the run instead restarts from the last checkpoint with the
learning rate times ``train.rollback_lr_factor``, at most ``train.max_rollbacks`` times in all (a
resumed run counts the rollbacks logged before it).
"""

from __future__ import annotations

import itertools
import json
import pathlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import orbax.checkpoint as ocp

from irnn_jax import tasks
from irnn_jax.config import schema
from irnn_jax.core import checks, errors
from irnn_jax.core.errors import WorkdirError
from irnn_jax.models import diagnostics
from irnn_jax.runtime import distributed, sharding, stopping
from irnn_jax.runtime import progress as progress_lib
from irnn_jax.runtime import tensorboard as tensorboard_lib
from irnn_jax.training import best as best_lib
from irnn_jax.training import checkpoint, optim, parts, run_log
from irnn_jax.training import workdir as workdir_lib
from irnn_jax.training.run_log import TrainingDivergedError
from irnn_jax.training.steps import (
    Batch,
    Metrics,
    TrainState,
    create_train_state,
    evaluate,
    make_eval_step,
    make_train_step,
    zero_carry,
)

__all__ = [
    "Batch",
    "Fitted",
    "Loaded",
    "Metrics",
    "TrainState",
    "TrainingDivergedError",
    "create_train_state",
    "describe",
    "evaluate",
    "fit",
    "load",
    "make_eval_step",
    "make_train_step",
]


class Fitted(NamedTuple):
    """What :func:`fit` returns: the run's summary (as in ``summary.json``) and its trained state."""

    summary: dict[str, Any]
    state: TrainState


class Loaded(NamedTuple):
    """A run read back from its workdir by :func:`load`: the built run (config, task, model,
    optimiser), the state of its latest checkpoint and that checkpoint's step."""

    run: parts.RunParts
    state: TrainState
    step: int


def fit(
    config: Mapping[str, Any] | parts.RunParts,
    workdir: str | pathlib.Path,
    *,
    resume: bool = False,
    command: str | None = None,
    log: Callable[[str], None] = print,
    progress: str = "auto",
    tensorboard: bool = False,
    writers: Sequence[run_log.MetricsWriter] = (),
) -> Fitted:
    """Train the model a config describes; write metrics, checkpoints and ``summary.json`` to
    ``workdir`` (what a run writes, resumes from and does on divergence: the module docstring).

    Args:
      config: a config, or the run already built from one (:func:`irnn_jax.training.parts.build`),
        for a pipeline that looks at the model or task first.
      workdir: the run's directory, held for its whole life (a second run there is refused).
      resume: continue from the latest checkpoint, bit-identically to an uninterrupted run.
      command: the command line that made the run, recorded in its summary.
      log: where the log lines go.
      progress: a mode of :mod:`irnn_jax.runtime.progress` (by default a widget in notebooks, a
        bar on terminals, a line through ``log`` every 30 s elsewhere).
      tensorboard: also write the logged lines as TensorBoard event files to
        ``<workdir>/tensorboard/``.
      writers: trackers of your own that receive every logged line
        (:class:`irnn_jax.training.run_log.MetricsWriter`: ``scalars(step, values)`` and
        ``restart(step)``).

    Returns:
      :class:`Fitted`: the summary (final held-out metrics, the task's baseline, steps, wall
      time: ``wall_s`` of this call, ``elapsed_s`` of the whole run across resumes, ``None``
      where its log predates that field; and ``command``, the command line that made the run
      if given) and the trained state (``state.params`` for ``run.model.apply``; :func:`load`
      reads it back later).

    Raises:
      ConfigError: a bad config, or one too large for the device's memory.
      WorkdirError: ``workdir`` is a file, held by another run, holds checkpoints without
        ``resume``, or cannot be resumed with this config.
    """
    progress = progress_lib.resolve(progress)
    run = config if isinstance(config, parts.RunParts) else parts.build(config)
    workdir = workdir_lib.prepare(workdir)
    log = log if distributed.is_main() else distributed.main_only(log)
    with stopping.catching(log) as stop:
        if not distributed.is_main():  # the main process logs, writes and holds the workdir for all
            return _fit(run, workdir, resume, command, log, "none", (), stop)
        with workdir_lib.lock(workdir, log):
            if tensorboard:
                writers = [tensorboard_lib.EventWriter(workdir / workdir_lib.TENSORBOARD_DIR), *writers]
            return _fit(run, workdir, resume, command, log, progress, writers, stop)


def load(workdir: str | pathlib.Path, log: Callable[[str], None] = print, which: str = "latest") -> Loaded:
    """Read back a finished or interrupted run: its config (``config.json``), rebuilt, and the
    state of its newest checkpoint that restores (a damaged newer one is set aside, as a resume
    would; do not load a workdir while a run is writing to it).

    Args:
      workdir: the run's workdir.
      log: where a line about a checkpoint set aside goes.
      which: ``'latest'``, the newest of the run's checkpoints, or ``'best'``, the checkpoint of
        its best validation value of ``train.keep_best``'s metric (:mod:`irnn_jax.training.best`).

    Returns:
      :class:`Loaded`: ``run`` (the rebuilt :class:`irnn_jax.training.parts.RunParts`),
      ``state`` (its ``params`` for ``run.model.apply``) and ``step``, the checkpoint's step.

    Raises:
      WorkdirError: ``workdir`` records no config or holds no such checkpoint (``'best'``: the
        run did not set ``train.keep_best``).
      ValueError: ``which`` is neither ``'latest'`` nor ``'best'``.
    """
    checks.one_of(which, ("latest", "best"), "which")
    workdir = pathlib.Path(workdir)
    path = workdir / workdir_lib.CONFIG_FILE
    if not path.is_file():
        raise WorkdirError(f"{workdir} is not a run's workdir: it has no {workdir_lib.CONFIG_FILE}")
    run = parts.build(json.loads(path.read_text()))
    init_key, data_key = run.keys()
    first_inputs = next(run.task.batches("train", run.settings.batch_size, data_key))[0]
    restored = None
    checkpoints = checkpoint.manager(workdir, run.settings.keep_checkpoints, which)
    try:
        if checkpoint.latest_step(checkpoints) is not None:
            restored = checkpoint.restore_latest(checkpoints, run.init_state(init_key, first_inputs), log)
    finally:
        checkpoints.close()
    if restored is None:
        hint = " (the run kept no best one: set train.keep_best)" if which == "best" else ""
        raise WorkdirError(f"{workdir} holds no {which} checkpoint that restores{hint}")
    step, state = restored
    return Loaded(run, state, step)


class _Start(NamedTuple):
    """Where a run starts: its state and step, the key of its batch stream and its first batch
    (the diagnostics' fixed batch), and the step it resumed from (``None``: a fresh run)."""

    state: TrainState
    step: int
    data_key: jax.Array
    first_batch: Batch
    resumed_from: int | None


def _fit(
    run: parts.RunParts,
    workdir: pathlib.Path,
    resume: bool,
    command: str | None,
    log: Callable[[str], None],
    progress_mode: str,
    writers: Sequence[run_log.MetricsWriter],
    stop: stopping.StopRequest,
) -> Fitted:
    """:func:`fit` of a built run, in a workdir this process holds, until its last step, until
    early stopping or until ``stop`` is due."""
    settings = run.settings
    log(describe(run.config))
    checkpoints = checkpoint.manager(workdir, settings.keep_checkpoints)
    best_checkpoints = checkpoint.manager(workdir, None, which="best") if settings.keep_best else None
    try:
        start = _start(run, workdir, checkpoints, resume, log)
        records = run_log.RunLog(workdir, start.resumed_from, writers, writes=distributed.is_main())
        distributed.barrier("log trimmed")  # before any process reads it
        best = best_lib.BestPoint(
            settings.keep_best or run.task.metric, settings.early_stopping_patience, best_checkpoints
        )
        best.restart(records.records(), start.step - 1)  # the held-out pass of the start step comes again
        device_mesh = sharding.mesh()  # data parallel: batches split over devices, state replicated
        first_batch = sharding.replicate(start.first_batch, device_mesh)  # the diagnostics' batch
        eval_step = jax.jit(run.eval_step())
        outputs = _Outputs(run, checkpoints, records, device_mesh, first_batch, eval_step, log, best)
        clock = run_log.Clock(records.elapsed_before())
        loop = _Loop(run, start, outputs, clock)
        loop.held_out = outputs.begin(loop.state, loop.step, fresh=start.resumed_from is None)
        progress = progress_lib.start(progress_mode, settings.steps, loop.step, log)
        try:
            ended_by = loop.train(stop, progress)
        finally:  # a divergence or an interrupt leaves no bar open
            progress.close()
    finally:
        if best_checkpoints is not None:
            best_checkpoints.close()
    if ended_by == "signal":
        raise stop.stopped(
            loop.step,
            f"its checkpoint is in {workdir / workdir_lib.CHECKPOINTS_DIR}, its log up to it in "
            f"{workdir / workdir_lib.METRICS_FILE}",
            "continue with --resume (fit(..., resume=True)), bit-identically to a run not stopped",
        )
    summary = _write_summary(run, workdir, command, start, loop)
    return Fitted(summary, loop.state)


class _Loop:
    """The training loop of one run: its state and step, the training batches from that step
    on, the window of step metrics not yet logged, and the latest held-out results."""

    def __init__(self, run: parts.RunParts, start: _Start, outputs: _Outputs, clock: run_log.Clock) -> None:
        self.run, self.outputs, self.data_key, self.clock = run, outputs, start.data_key, clock
        self.state = sharding.replicate(start.state, outputs.device_mesh)
        self.step, self.rollbacks = start.step, outputs.records.rollbacks()  # a resumed run's budget goes on
        self.train_step = jax.jit(run.train_step(), donate_argnums=0)
        leaves = jax.tree_util.tree_leaves_with_path(start.state.params)
        self.param_names = [jax.tree_util.keystr(path) for path, _ in leaves]
        self.held_out: dict[str, dict[str, float]] = {}
        self.ended_early_at: int | None = None  # the step where early stopping ended the run
        self._go_on()

    def _go_on(self) -> None:
        """Start the batches at the current step, with an empty window."""
        self.batches = _train_batches(self.run, self.data_key, self.step, self.outputs.device_mesh)
        self.window, self.window_start = [], time.perf_counter()

    def train(self, stop: stopping.StopRequest, progress: progress_lib.Progress) -> str | None:
        """Train to the last step; return what ended the run before it (``'signal'``, after
        checkpointing the step in flight, or ``'patience'``, early stopping), else ``None``."""
        settings = self.run.settings
        if self.outputs.best.exhausted:  # a resumed run that had stopped early
            self.ended_early_at = self.step
            return "patience"
        while self.step < settings.steps:
            self.state, step_metrics = self.train_step(self.state, next(self.batches))
            self.step += 1
            self.window.append(step_metrics)
            save_now, evaluate_now, window_ends = _due(settings, self.step)
            signalled = stop.due(window_ends)
            if not (window_ends or signalled) or not self._end_window(
                save_now or signalled, evaluate_now, progress
            ):
                continue  # mid-window, or rolled back
            if signalled:
                return "signal"
            if self.outputs.best.exhausted:
                if not save_now:
                    self.outputs.save(self.state, self.step)
                    self.outputs.best.prune(self.step)
                self.ended_early_at = self.step
                return "patience"
        return None

    def _end_window(self, save_now: bool, evaluate_now: bool, progress: progress_lib.Progress) -> bool:
        """Check, log and (as due) checkpoint and evaluate the window that ends at this step;
        ``False`` if it diverged and the run rolled back."""
        stacked = run_log.stack(self.window)
        seconds = time.perf_counter() - self.window_start  # after the window's results are ready
        try:
            run_log.check_finite(stacked, self.step - len(self.window) + 1, self.param_names)
        except TrainingDivergedError as error:
            outputs = self.outputs
            self.step, state = run_log.roll_back(
                error,
                self.state,
                outputs.checkpoints,
                self.run.settings,
                self.rollbacks,
                outputs.records,
                outputs.log,
            )
            outputs.best.restart(outputs.records.records(), self.step)
            self.rollbacks += 1
            self.state = sharding.replicate(state, outputs.device_mesh)
            self._go_on()
            return False
        record = self.run.task.complete_metrics(run_log.window_record(stacked, self.step, seconds))
        elapsed = self.clock.elapsed()
        if elapsed is not None:
            record["elapsed_s"] = round(elapsed, 2)
        progress.update(self.step, record["loss"])
        held_out = self.outputs.window_ended(self.state, self.step, record, save_now, evaluate_now)
        self.held_out = held_out or self.held_out
        self.window, self.window_start = [], time.perf_counter()  # steps/s counts training only
        return True


def _write_summary(
    run: parts.RunParts, workdir: pathlib.Path, command: str | None, start: _Start, loop: _Loop
) -> dict[str, Any]:
    """The finished run's ``summary.json`` (written by the main process), returned: its last
    held-out results, and its best point (:mod:`irnn_jax.training.best`)."""
    summary = {
        "command": command,
        "steps": loop.step,
        "resumed_from": start.resumed_from,
        "rollbacks": loop.rollbacks,
        "wall_s": round(loop.clock.wall(), 2),  # this process's part
        "elapsed_s": None if (elapsed := loop.clock.elapsed()) is None else round(elapsed, 2),
        **_results(run, loop.held_out),
        "best": loop.outputs.best.summary(),
    }
    examples = run.task.examples(run.model, loop.state.params)
    if examples:
        summary["examples"] = examples
    if loop.ended_early_at is not None:
        patience = run.settings.early_stopping_patience
        summary["stopped_early"] = {"step": loop.ended_early_at, "patience": patience}
    if distributed.is_main():
        workdir_lib.write_text(workdir / workdir_lib.SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
    return summary


class _Outputs(NamedTuple):
    """Where a run's results go as it trains: its checkpoints, its log, the held-out
    evaluations and diagnostics, computed on the device mesh, and its best point."""

    run: parts.RunParts
    checkpoints: ocp.CheckpointManager
    records: run_log.RunLog
    device_mesh: jax.sharding.Mesh
    first_batch: Batch  # the diagnostics' fixed batch
    eval_step: Callable[..., Any]
    log: Callable[[str], None]
    best: best_lib.BestPoint

    def begin(self, state: TrainState, step: int, fresh: bool) -> dict[str, dict[str, float]]:
        """What is due before the first step: an evaluation where an uninterrupted run made one
        at ``step`` (else none, ``{}``), and for a ``fresh`` run step 0's diagnostics and
        checkpoint."""
        settings = self.run.settings
        due = step % settings.eval_every == 0 or step >= settings.steps
        held_out = self.held_out(state, step) if due else {}
        if fresh:
            _diagnose(self.run, state.params, self.first_batch, 0, self.records)
            self.save(state, 0)
        return held_out

    def save(self, state: TrainState, step: int) -> None:
        """Checkpoint ``state`` as the one of ``step``."""
        checkpoint.save(self.checkpoints, step, state)

    def held_out(self, state: TrainState, step: int) -> dict[str, dict[str, float]]:
        """Both held-out splits evaluated (and logged) at ``step``, offered to the best point."""
        held_out = _held_out(self.run, self.eval_step, state.params, self.device_mesh, step, self.records)
        self.best.offer(step, held_out, state, checkpoint.latest_step(self.checkpoints))
        return held_out

    def window_ended(
        self, state: TrainState, step: int, record: dict[str, Any], save_now: bool, evaluate_now: bool
    ) -> dict[str, dict[str, float]] | None:
        """Write a log window's ``record`` (with the learning rate of its last update), then the
        checkpoint, diagnostics and evaluation that are due at ``step``; return the evaluation,
        if one was due."""
        decay_steps = self.run.config["optim"]["decay_steps"]
        self.records.write(
            {**record, "learning_rate": optim.learning_rate_at(state.opt_state, decay_steps, step)}
        )
        if save_now:
            self.save(state, step)
        _diagnose(self.run, state.params, self.first_batch, step, self.records)
        if not evaluate_now:
            return None
        held_out = self.held_out(state, step)
        self.log(_held_out_line(self.run.task, step, held_out))
        return held_out


def _due(settings: schema.TrainSettings, step: int) -> tuple[bool, bool, bool]:
    """``(checkpoint, evaluate, end the log window)`` after ``step``: a window ends at every
    log, checkpoint, evaluation and diagnostics step, and the last step does all."""
    last = step == settings.steps
    save_now = step % settings.checkpoint_every == 0 or last
    evaluate_now = step % settings.eval_every == 0 or last
    diagnose_now = bool(settings.diagnostics_every) and step % settings.diagnostics_every == 0
    return save_now, evaluate_now, step % settings.log_every == 0 or save_now or evaluate_now or diagnose_now


def _held_out_line(task: tasks.Task, step: int, held_out: dict[str, dict[str, float]]) -> str:
    """The log line of an evaluation: the headline metric on both held-out splits."""
    return (
        f"step {step:>7d}  {task.metric} valid {held_out['valid'][task.metric]:.5f}"
        f"  test {held_out['test'][task.metric]:.5f}  (baseline {task.baseline:.4f})"
    )


def _results(run: parts.RunParts, held_out: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a summary that says what the run measured, against what, and how it was set."""
    return {
        "metric": run.task.metric,
        "baseline": run.task.baseline,
        "valid": held_out["valid"],
        "test": held_out["test"],
        "config": workdir_lib.as_dict(run.config),
    }


def _start(
    run: parts.RunParts,
    workdir: pathlib.Path,
    checkpoints: ocp.CheckpointManager,
    resume: bool,
    log: Callable[[str], None],
) -> _Start:
    """Claim ``workdir`` for ``run`` (its config recorded, or checked against the recorded one
    on a resume) and return where the run starts: step 0, or its newest checkpoint that restores."""
    latest = checkpoint.latest_step(checkpoints)
    if latest is not None and not resume:
        raise WorkdirError(
            f"{workdir} already holds checkpoints (latest step {latest}); resume it (--resume, or "
            "fit(..., resume=True)) or choose a new workdir"
        )
    if latest is not None:
        workdir_lib.check_resumable(workdir, run.config, log)
    distributed.barrier("config checked")  # by every process, before the main one rewrites it
    if distributed.is_main():
        workdir_lib.record_config(workdir, run.config)
        artifacts = run.task.artifacts()
        if artifacts:
            workdir_lib.write_arrays(workdir / workdir_lib.TASK_ARTIFACTS_FILE, artifacts)
    init_key, data_key = run.keys()
    with errors.checking_config():  # e.g. a batch larger than the training set
        first_batch = next(run.task.batches("train", run.settings.batch_size, data_key))
    run.check_memory(init_key, first_batch)
    state = run.init_state(init_key, first_batch[0])
    restored = checkpoint.restore_latest(checkpoints, state, log) if latest is not None else None
    if restored is None:
        if resume:
            log(f"no checkpoint in {workdir}: starting from step 0")
        return _Start(state, 0, data_key, first_batch, None)
    step, state = restored
    log(f"resuming from the checkpoint of step {step}")
    return _Start(state, step, data_key, first_batch, step)


def _train_batches(
    run: parts.RunParts, data_key: jax.Array, start_step: int, device_mesh: jax.sharding.Mesh
) -> Iterator[Batch]:
    """The training batches from ``start_step`` on, split over the devices."""
    batches = run.task.batches("train", run.settings.batch_size, data_key, start_step=start_step)
    return (sharding.shard_leading_axis(batch, device_mesh) for batch in batches)


def _held_out(
    run: parts.RunParts,
    eval_step: Callable[..., tuple[Metrics, Any]],
    params: Any,
    device_mesh: jax.sharding.Mesh,
    step: int,
    records: run_log.RunLog,
) -> dict[str, dict[str, float]]:
    """Evaluate ``params`` on the valid and test splits, log one line each, and return them;
    a task that carries state starts each pass from the zero state."""
    results = {}
    for split in ("valid", "test"):
        batches = run.task.batches(split, run.settings.eval_batch_size)
        batches = (sharding.shard_leading_axis(batch, device_mesh) for batch in batches)
        carry = None
        if run.task.carries_state:
            first = next(batches)
            batches = itertools.chain([first], batches)
            carry = sharding.replicate(zero_carry(run.model, params, first[0]), device_mesh)
        results[split] = {
            **run.task.complete_metrics(evaluate(eval_step, params, batches, carry)),
            **run.task.generated_metrics(run.model, params, split),
        }
        records.write({"step": step, "split": split, **results[split]})
    return results


def _diagnose(run: parts.RunParts, params: Any, batch: Batch, step: int, records: run_log.RunLog) -> None:
    """Log the diagnostics of ``params`` on ``batch`` at ``step`` if the run asks for them."""
    every = run.settings.diagnostics_every
    if every and step % every == 0:
        records.write_diagnostics(step, diagnostics.snapshot(run.model, params, *batch, run.task.loss))


def describe(config: Mapping[str, Any]) -> str:
    """A run's config in brief, as a run logs it at its start.

    Args:
      config: a completed config (:func:`irnn_jax.config.complete`).

    Returns:
      One line naming the task, model, optimiser and budget, and a second line, ``note: ...``,
      if the learning-rate decay ends before the last step.
    """

    def fields(section: Mapping[str, Any], skip: tuple[str, ...] = ("name",)) -> str:
        return " ".join(f"{key}={value}" for key, value in section.items() if key not in skip)

    def init(spec: Mapping[str, Any]) -> str:
        return f"{spec['name']}({fields(spec).replace(' ', ', ')})"

    model, optim_config, train_config = config["model"], config["optim"], config["train"]
    line = (
        f"task {config['task']['name']} {fields(config['task'])} | model {model['cell']}, "
        f"{model['layers']} x {model['hidden_size']} units, w_hh {init(model['recurrent_init'])}, "
        f"w_ih {init(model['input_init'])} | optimiser {optim_config['name']} "
        f"{fields(optim_config)} | batch {train_config['batch_size']}, "
        f"{train_config['steps']} steps, seed {config['seed']}"
    )
    note = schema.schedule_note(config)
    return line if note is None else f"{line}\nnote: {note}"
