"""A run's best held-out point: its checkpoint (``train.keep_best``) and early stopping
(``train.early_stopping_patience``).

After each held-out evaluation :meth:`BestPoint.offer` compares the validation value of one
metric with the best so far (higher or lower is better by
:func:`irnn_jax.tasks.base.higher_is_better`). With ``keep_best`` a better value's state is saved
as a checkpoint in ``<workdir>/best/checkpoints/``, whose newest is the best one that
``irnn_jax.training.train.load(workdir, which="best")`` reads back. An older best checkpoint is
deleted only once a newer one lies at or before the run's latest regular checkpoint: a resume or
a rollback goes back at most to that checkpoint, so the best point up to there keeps its state.
With a patience of ``n``, the run stops once ``n`` evaluations in a row brought no better value.

A resumed or rolled-back run rebuilds the best point from the held-out lines of
``metrics.jsonl`` up to where it goes on from (:meth:`BestPoint.restart`), so it keeps, saves and
stops exactly as the run would have without the interruption.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import orbax.checkpoint as ocp

from irnn_jax.core.errors import ConfigError
from irnn_jax.tasks.base import higher_is_better
from irnn_jax.training import checkpoint


class BestPoint:
    """The best validation value of ``metric`` so far, where it was reached and how many
    evaluations have passed since.

    Args:
      metric: the held-out metric to compare.
      patience: stop after this many evaluations without a better value (0: never).
      checkpoints: where to save the best state (``checkpoint.manager(..., which="best")``), or
        ``None`` to keep no checkpoint.
    """

    def __init__(self, metric: str, patience: int, checkpoints: ocp.CheckpointManager | None) -> None:
        self.metric, self.patience, self.checkpoints = metric, patience, checkpoints
        self.sign = -1.0 if higher_is_better(metric) else 1.0
        self.step: int | None = None
        self.held_out: dict[str, dict[str, float]] = {}
        self.since = 0

    def restart(self, lines: Iterable[Mapping[str, Any]], until: int) -> None:
        """Rebuild the best point from a run's log, where the run goes on from (a resume or a
        rollback), and delete the best checkpoints of later steps, which it has not reached.

        Args:
          lines: the ``metrics.jsonl`` records in order, already cut back to where the run goes
            on; the ``valid`` and ``test`` lines count.
          until: the last step whose best checkpoint may stay.
        """
        self.step, self.held_out, self.since = None, {}, 0
        by_step: dict[int, dict[str, dict[str, float]]] = {}
        for line in lines:
            if line.get("split") in ("valid", "test"):
                by_step.setdefault(line["step"], {})[line["split"]] = dict(line)
        for step in sorted(by_step):
            if "valid" in by_step[step]:
                self._compare(step, by_step[step])
        if self.checkpoints is not None:
            for step in [step for step in self.checkpoints.all_steps() if step > until]:
                self.checkpoints.delete(step)
        self.prune(until)

    def offer(
        self, step: int, held_out: Mapping[str, Mapping[str, float]], state: Any, saved_until: int | None
    ) -> bool:
        """Take the evaluation at ``step``; save ``state`` as the best checkpoint if it is better.

        Args:
          step: the step evaluated.
          held_out: ``{'valid': metrics, 'test': metrics}`` of that step.
          state: the training state at ``step``.
          saved_until: the step of the run's latest regular checkpoint (``None``: none yet), for
            :meth:`prune`.

        Returns:
          Whether the value is the best so far.

        Raises:
          ConfigError: the task logs no such metric on its validation split.
        """
        if self.metric not in held_out["valid"]:
            raise ConfigError(
                f"train.keep_best/early stopping: the task logs no held-out metric {self.metric!r}; "
                f"it logs {', '.join(sorted(held_out['valid']))}"
            )
        better = self._compare(step, held_out)
        if better and self.checkpoints is not None:
            checkpoint.save(self.checkpoints, step, state)
        self.prune(saved_until)
        return better

    def prune(self, saved_until: int | None) -> None:
        """Delete the best checkpoints that no resume or rollback can need: those older than the
        newest one at or before ``saved_until``, the step of the run's latest regular checkpoint.

        Args:
          saved_until: that step (``None``: the run has no checkpoint yet, nothing is deleted).
        """
        if self.checkpoints is None or saved_until is None:
            return
        kept = [step for step in self.checkpoints.all_steps() if step <= saved_until]
        for step in sorted(kept)[:-1]:
            self.checkpoints.delete(step)

    @property
    def exhausted(self) -> bool:
        """Whether early stopping is due: ``patience`` evaluations in a row without a better value.

        Returns:
          False without a patience (0).
        """
        return bool(self.patience) and self.since >= self.patience

    def summary(self) -> dict[str, Any] | None:
        """The best point for a run's summary.

        Returns:
          ``{'metric', 'step', 'valid', 'test'}`` (the held-out metrics at the best step), or
          ``None`` before the first finite value.
        """
        if self.step is None:
            return None
        held_out = {
            split: {name: value for name, value in record.items() if name not in ("step", "split")}
            for split, record in self.held_out.items()
        }
        return {"metric": self.metric, "step": self.step, **held_out}

    def _compare(self, step: int, held_out: Mapping[str, Mapping[str, float]]) -> bool:
        """Take ``held_out`` of ``step`` as the best point if it is better; count it if not."""
        value = held_out["valid"][self.metric]
        better = math.isfinite(value) and (
            self.step is None or self.sign * value < self.sign * self.held_out["valid"][self.metric]
        )
        if better:
            self.step, self.held_out, self.since = step, {k: dict(v) for k, v in held_out.items()}, 0
        else:
            self.since += 1
        return better
