"""A training run's log, its guard against non-finite training, and its rollback.

- :class:`RunLog`: ``metrics.jsonl`` (train windows, held-out passes, rollbacks) and
  ``diagnostics.jsonl`` in a workdir, trimmed when a run resumes or rolls back.
- :func:`check_finite`: the guard; names the first step and the parameters that went non-finite.
- :func:`window_record`: the means of a window of step metrics, as one ``train`` line.
- :func:`roll_back`: the state of the last checkpoint with a lower learning rate, or the error.
- :class:`Clock`: a run's wall time in this process and across its resumes (``elapsed_s``).
"""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from irnn_jax.config import schema
from irnn_jax.training import checkpoint, optim, steps
from irnn_jax.training import workdir as workdir_lib

_FLAGS = ("grad_finite", "param_finite")  # per-parameter flags for the guard, not for the log


class TrainingDivergedError(RuntimeError):
    """Raised when the loss, a gradient or a parameter becomes non-finite at step ``step``."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


class MetricsWriter(Protocol):
    """Where a run's logged numbers also go (a tracker of your own; TensorBoard is one,
    :class:`irnn_jax.runtime.tensorboard.EventWriter`): ``fit(..., writers=[...])``."""

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Take the numbers of one ``metrics.jsonl`` line at ``step``, tagged ``split/name``
        (``train/loss``, ``valid/mse``, ``train/learning_rate``)."""

    def restart(self, step: int) -> None:
        """The run goes on from before ``step`` (a resume or a rollback): what was written for
        ``step`` and later comes again (a writer may drop it, or ignore this)."""


class RunLog:
    """The ``metrics.jsonl`` and ``diagnostics.jsonl`` of the run in ``workdir``.

    A fresh run (``resumed_from=None``) starts both files empty; a resumed one keeps what was
    logged up to its checkpoint, except that step's held-out lines, which it writes again. Every
    line's numbers also go to each of ``writers`` (:class:`MetricsWriter`, such as TensorBoard's
    :class:`irnn_jax.runtime.tensorboard.EventWriter`) as scalars tagged ``split/name``
    (``train/loss``, ``test/mse``). A resumed or rolled-back run tells the
    writers the step it goes on from (:meth:`MetricsWriter.restart`; TensorBoard then forgets the
    points after it). Without ``writes`` (a process of a multi-process job other than the main
    one) it only reads.
    """

    def __init__(
        self,
        workdir: pathlib.Path,
        resumed_from: int | None,
        writers: Sequence[MetricsWriter] = (),
        *,
        writes: bool = True,
    ) -> None:
        self.workdir, self.writes = workdir, writes
        self._writers = list(writers) if writes else []
        if resumed_from is None and writes:
            for name in (workdir_lib.METRICS_FILE, workdir_lib.DIAGNOSTICS_FILE):
                (workdir / name).unlink(missing_ok=True)
        elif resumed_from is not None:
            self.drop_after(resumed_from, held_out_too=True)

    def write(self, record: dict[str, Any]) -> None:
        """Append one line to ``metrics.jsonl`` (and its numbers to the event file)."""
        if not self.writes:
            return
        workdir_lib.append_line(self.workdir / workdir_lib.METRICS_FILE, json.dumps(record))
        split = record["split"]
        numbers = {
            f"{split}/{name}": value
            for name, value in record.items()
            if name not in ("step", "split")
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        }
        for writer in self._writers:  # TensorBoard's event files are in the workdir too
            with workdir_lib.writing(self.workdir, 32 * len(numbers)):
                writer.scalars(record["step"], numbers)

    def write_diagnostics(self, step: int, record: dict[str, Any]) -> None:
        """Append the diagnostics of ``step`` to ``diagnostics.jsonl``."""
        if not self.writes:
            return
        workdir_lib.append_line(
            self.workdir / workdir_lib.DIAGNOSTICS_FILE, json.dumps({"step": step, **record})
        )

    def records(self) -> list[dict[str, Any]]:
        """The lines of ``metrics.jsonl`` so far, in order (a line cut short by a kill left out).

        Returns:
          One dict per whole line.
        """
        return [record for _, record in self._lines(workdir_lib.METRICS_FILE)]

    def elapsed_before(self) -> float | None:
        """The run's wall seconds before this process: the ``elapsed_s`` of the last ``train``
        line kept (0 for a log without one, as a fresh run's; ``None`` where that line was written
        before runs logged ``elapsed_s``)."""
        train = [record for record in self.records() if record.get("split") == "train"]
        return train[-1].get("elapsed_s") if train else 0.0

    def rollbacks(self) -> int:
        """How many rollbacks ``metrics.jsonl`` records (a resumed run's budget goes on from it)."""
        return sum(record.get("split") == "rollback" for record in self.records())

    def drop_after(self, step: int, *, held_out_too: bool = False) -> None:
        """Remove the lines of steps after ``step`` (and with ``held_out_too`` the valid/test
        lines of ``step`` itself), which the continued run writes again; a line cut short by a
        kill is dropped too."""
        if not self.writes:
            return
        for writer in self._writers:  # the held-out points of ``step`` come again with equal values
            writer.restart(step + 1)

        def keep(record: dict[str, Any]) -> bool:
            if held_out_too and record.get("split") in ("valid", "test"):
                return record["step"] < step
            return record["step"] <= step

        for name in (workdir_lib.METRICS_FILE, workdir_lib.DIAGNOSTICS_FILE):
            path = self.workdir / name
            if path.exists():
                kept = "".join(line + "\n" for line, record in self._lines(name) if keep(record))
                workdir_lib.write_text(path, kept)

    def _lines(self, name: str) -> list[tuple[str, dict[str, Any]]]:
        """``(line, record)`` for every whole line of the file ``name``."""
        path = self.workdir / name
        lines = []
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                lines.append((line, json.loads(line)))
            except json.JSONDecodeError:
                continue
        return lines


class Clock:
    """A run's wall time from this process's start (:meth:`wall`) and across the processes that
    resumed it (:meth:`elapsed`: ``before``, the seconds up to the step it resumed from, plus
    this process's; the steps a stopped process ran past its last checkpoint are not counted)."""

    def __init__(self, before: float | None) -> None:
        self.before, self.began = before, time.perf_counter()

    def wall(self) -> float:
        """Seconds since this process's part of the run began."""
        return time.perf_counter() - self.began

    def elapsed(self) -> float | None:
        """Seconds of the whole run so far, ``None`` where the seconds before this process are
        unknown (a log written before runs logged ``elapsed_s``)."""
        return None if self.before is None else self.before + self.wall()


def stack(window: Sequence[steps.Metrics]) -> dict[str, np.ndarray]:
    """The step metrics of a window, stacked along a leading step axis and fetched to the host
    (which waits for the steps to finish: dispatch is asynchronous)."""
    return jax.device_get(jax.tree.map(lambda *values: jnp.stack(values), *window))


FINITE_NORMS = ("loss", "grad_l2", "param_l2", "update_l2")


def finite(metrics: Mapping[str, Any]) -> jax.Array:
    """Whether a training step stayed finite, the one definition of divergence that training and
    sweeps share: its loss, the norms of its gradients, parameters and updates, and every
    gradient and parameter array (``grad_finite``, ``param_finite``) finite. ``metrics`` are one
    step's, or stacked along leading axes (steps, runs): the result has those axes."""
    norms = jnp.stack([jnp.isfinite(metrics[name]) for name in FINITE_NORMS])
    arrays = jnp.all(metrics["grad_finite"], axis=-1) & jnp.all(metrics["param_finite"], axis=-1)
    return jnp.all(norms, axis=0) & arrays


def check_finite(stacked: dict[str, np.ndarray], first_step: int, param_names: Sequence[str]) -> None:
    """Raise :class:`TrainingDivergedError` at the first step of ``stacked`` (numbered from
    ``first_step``) that is not :func:`finite`, naming the parameters (``param_names``, in leaf
    order) whose gradients or values are non-finite."""
    for offset, ok in enumerate(np.asarray(finite(stacked))):
        if ok:
            continue
        grads_ok, params_ok = stacked["grad_finite"][offset], stacked["param_finite"][offset]

        def names(flags: np.ndarray) -> str:
            return ", ".join(name for name, ok in zip(param_names, flags, strict=True) if not ok) or "none"

        raise TrainingDivergedError(
            f"non-finite training at step {first_step + offset}: loss={stacked['loss'][offset]}, "
            f"grad_l2={stacked['grad_l2'][offset]}, param_l2={stacked['param_l2'][offset]}, "
            f"non-finite gradients: {names(grads_ok)}; non-finite parameters: {names(params_ok)}; "
            "lower optim.lr or optim.clip",
            first_step + offset,
        )


def window_record(stacked: dict[str, np.ndarray], step: int, seconds: float) -> dict[str, Any]:
    """The ``train`` line of a window ending at ``step``: the means of its step metrics (not the
    guard's flags, nor ``count``) and the steps per second over ``seconds``."""
    record: dict[str, Any] = {"step": step, "split": "train"}
    record.update(
        {name: float(np.mean(values)) for name, values in stacked.items() if name not in (*_FLAGS, "count")}
    )
    record["steps_per_s"] = len(stacked["loss"]) / seconds
    return record


def roll_back(
    error: TrainingDivergedError,
    state: steps.TrainState,
    checkpoints: ocp.CheckpointManager,
    settings: schema.TrainSettings,
    rollbacks: int,
    run_log: RunLog,
    log: Callable[[str], None],
) -> tuple[int, steps.TrainState]:
    """``(step, state)`` of the last checkpoint, its learning rate times
    ``settings.rollback_lr_factor``, after the ``rollbacks``-th divergence ``error``; the diverged
    attempt's lines are dropped and the rollback logged.

    Raises:
      TrainingDivergedError: ``error`` itself, with ``on_divergence='stop'``, when
        ``max_rollbacks`` are spent, or when there is no checkpoint to go back to.
    """
    good_step = checkpoint.latest_step(checkpoints)
    if settings.on_divergence == "stop" or rollbacks == settings.max_rollbacks or good_step is None:
        raise error
    learning_rate = float(state.opt_state.hyperparams["learning_rate"]) * settings.rollback_lr_factor
    run_log.drop_after(good_step)
    state = checkpoint.restore(checkpoints, good_step, state)
    state = state.replace(opt_state=optim.set_hyperparams(state.opt_state, learning_rate=learning_rate))
    log(
        f"{error}; rolled back to step {good_step} with lr {learning_rate:.3g} "
        f"(rollback {rollbacks + 1} of at most {settings.max_rollbacks})"
    )
    run_log.write(
        {"step": good_step, "split": "rollback", "diverged_at": error.step, "learning_rate": learning_rate}
    )
    return good_step, state
