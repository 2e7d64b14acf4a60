"""Campaigns: the runs of one reproduction, run until each has a results record.

A campaign file is a Python file defining ``RUNS``, a list of :class:`Run`, and ``COST_S``, the
measured seconds of one run on one CPU core (its docstring says how it was measured). ``irnn-jax
campaign FILE`` trains every run that has no record yet, resuming an interrupted one from its
workdir, and writes each record (:func:`irnn_jax.reproduce.report.collect`) as soon as its run ends, then
removes that run's workdir: the record keeps its curve, diagnostics and command, and the run's
training log (``metrics.jsonl``: training-batch metrics and steps/s, which the record does not
hold) is kept beside it as ``<name>.metrics.jsonl``. So the runs directory (by default the
campaign file's path with ``.runs`` for ``.py``) holds only interrupted runs, small enough to
commit, and a campaign spread over sessions and fresh machines picks up where it stopped.
``--shard K/N`` takes every N-th run from the K-th, to run N processes side by side. The command
keeps compiled programs in JAX's persistent cache (:data:`COMPILATION_CACHE`) for the runs that
follow. A run that diverges is a result, not a failure: its record says where (``diverged``,
``diverged_at``) and holds the held-out curve and diagnostics up to there, and the campaign goes
on. SIGTERM or SIGINT stops the campaign: during a run, after that run checkpointed the step it
reached (:mod:`irnn_jax.runtime.stopping`); between runs, once the finished run is recorded. The
same command then goes on from there.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import pathlib
import shlex
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax

from irnn_jax import config as config_lib
from irnn_jax import tasks
from irnn_jax.core.errors import ConfigError, StoppedError
from irnn_jax.reproduce import report
from irnn_jax.runtime import stopping
from irnn_jax.training import train
from irnn_jax.training import workdir as workdir_lib

COMPILATION_CACHE = pathlib.Path("~/.cache/irnn_jax/compilation_cache")
LOG_SUFFIX = ".metrics.jsonl"


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a campaign: a unique ``name`` (its workdir and record file), a config spec
    (``path.py:variant``) and ``--config.`` overrides (``'seed=1'``, ...)."""

    name: str
    config: str
    overrides: tuple[str, ...] = ()

    def command(self, workdir: pathlib.Path) -> str:
        """The ``irnn-jax train`` command line that makes this run in ``workdir``.

        Args:
          workdir: the run's workdir, as the command should name it.

        Returns:
          The command, shell-quoted: its config spec and one ``--config.`` flag per override.
        """
        overrides = [f"--config.{assignment}" for assignment in self.overrides]
        return shlex.join(
            ["irnn-jax", "train", "--config", self.config, "--workdir", str(workdir), *overrides]
        )


@dataclasses.dataclass(frozen=True)
class Campaign:
    """A loaded campaign file: its runs and the measured cost of one."""

    path: pathlib.Path
    runs: tuple[Run, ...]
    cost_s: float


def load(path: str | pathlib.Path) -> Campaign:
    """Load a campaign file (``RUNS`` and ``COST_S``), refusing duplicate run names.

    Args:
      path: the campaign file, a ``.py`` file; it is executed as a module.

    Returns:
      The :class:`Campaign`: ``path``, its runs in the file's order and ``COST_S`` as a float.

    Raises:
      ConfigError: ``path`` is not an existing ``.py`` file, does not define ``RUNS`` (a list or
        tuple of :class:`Run`, possibly empty) and a numeric ``COST_S``, or names a run twice.
    """
    path = pathlib.Path(path)
    if path.suffix != ".py" or not path.is_file():
        raise ConfigError(f"campaign file {str(path)!r} does not exist or is not a .py file")
    spec = importlib.util.spec_from_file_location(f"_irnn_jax_campaign_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runs, cost_s = getattr(module, "RUNS", None), getattr(module, "COST_S", None)
    # RUNS may be empty: a campaign's runs can wait on other campaigns' records.
    valid_runs = isinstance(runs, list | tuple) and all(isinstance(run, Run) for run in runs)
    if not valid_runs or not isinstance(cost_s, int | float):
        raise ConfigError(
            f"campaign file {str(path)!r} must define RUNS (a list of Run) and COST_S (seconds)"
        )
    names = [run.name for run in runs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"campaign {str(path)!r} names runs twice: {', '.join(duplicates)}")
    return Campaign(path, tuple(runs), float(cost_s))


def shard(runs: Sequence[Run], spec: str) -> list[Run]:
    """The runs of shard ``'K/N'``: every N-th run from the K-th (0 <= K < N).

    Args:
      runs: all the runs, in order.
      spec: ``'K/N'``, the shard's index ``K`` and the number of shards ``N``.

    Returns:
      ``runs[K::N]``, as a list.

    Raises:
      ConfigError: ``spec`` is not two non-negative ints ``K/N`` with ``K < N``.
    """
    index, _, count = spec.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise ConfigError(f"--shard must look like K/N with 0 <= K < N, got {spec!r}")
    return list(runs[int(index) :: int(count)])


def use_compilation_cache(directory: pathlib.Path) -> None:
    """Keep every compiled program in ``directory``, across runs and processes, unless a JAX
    compilation cache is configured already: a campaign's runs share their shapes, so all but the
    first skip compiling (for Tomita runs, whose every string length compiles anew, most of a
    run's time).

    Args:
      directory: where the cache lives (already expanded; ``~`` is not expanded here).
    """
    if jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def pending(runs: Sequence[Run], results_dir: pathlib.Path) -> list[Run]:
    """The runs that have no results record yet.

    Args:
      runs: the runs to check, in order.
      results_dir: where the records are, one ``<name>.json`` per run.

    Returns:
      The runs of ``runs`` without a ``<name>.json`` in ``results_dir``, in their order.
    """
    return [run for run in runs if not (results_dir / f"{run.name}.json").is_file()]


def train_pending(
    campaign: Campaign,
    runs: Sequence[Run],
    runs_dir: pathlib.Path,
    results_dir: pathlib.Path,
    log: Callable[[str], None] = print,
) -> list[pathlib.Path]:
    """Train each of ``runs`` that has no record in ``results_dir`` (resuming its workdir under
    ``runs_dir`` if one was started), keep its training log beside its record, write its record,
    remove its workdir, and return the records written. A recorded run's workdir left by a
    campaign stopped between the last two steps is removed first.

    A run that diverges (:class:`irnn_jax.training.train.TrainingDivergedError`) is recorded as
    such, with its curve and diagnostics up to there, and the campaign goes on.

    Args:
      campaign: the loaded campaign (its name goes into each record as ``'campaign'``; its cost
        into the estimate logged first).
      runs: the runs to train, a subset of ``campaign.runs`` (such as one :func:`shard`).
      runs_dir: where the runs' workdirs are, one ``<name>`` directory per run.
      results_dir: where the records go, ``<name>.json`` and ``<name>.metrics.jsonl`` per run;
        created if missing.
      log: the function that writes one progress line per run (training itself logs nothing).

    Returns:
      The paths of the records written by this call, in the order of the runs.

    Raises:
      ConfigError: a run's config cannot be loaded or overridden, or training refuses it.
      WorkdirError: a run's workdir cannot be used or resumed (:func:`irnn_jax.training.train.fit`);
        the runs recorded before it keep their records.
    """
    _remove_recorded_leftovers(runs, runs_dir, results_dir, log)
    todo = pending(runs, results_dir)
    log(
        f"campaign {campaign.path.name}: {len(todo)} of {len(runs)} runs to go, "
        f"about {len(todo) * campaign.cost_s / 60:.0f} min at {campaign.cost_s:.0f} s each"
    )
    results_dir.mkdir(parents=True, exist_ok=True)
    written: list[pathlib.Path] = []
    with stopping.catching(log) as stop:  # between runs; each run catches its own while it trains
        for number, item in enumerate(todo, 1):
            started = time.perf_counter()
            written.append(_record(campaign, item, runs_dir / item.name, results_dir))
            log(
                f"[{number}/{len(todo)}] {item.name}: {time.perf_counter() - started:.0f} s, "
                f"recorded in {written[-1]}"
            )
            if stop.signal_number is not None and number < len(todo):
                raise StoppedError(
                    f"{signal.Signals(stop.signal_number).name} stopped the campaign between runs, with "
                    f"{item.name} recorded ({number} of {len(todo)}); run the same campaign command again "
                    "for the runs left",
                    stop.signal_number,
                    0,
                )
    return written


def _remove_recorded_leftovers(
    runs: Sequence[Run], runs_dir: pathlib.Path, results_dir: pathlib.Path, log: Callable[[str], None]
) -> None:
    """Remove the workdir of a recorded run left by a campaign stopped between its last two steps."""
    for item in runs:
        leftover = runs_dir / item.name
        if leftover.exists() and (results_dir / f"{item.name}.json").is_file():
            log(f"{item.name} is recorded already: removing its leftover workdir {leftover}")
            shutil.rmtree(leftover)


def _record(campaign: Campaign, item: Run, workdir: pathlib.Path, results_dir: pathlib.Path) -> pathlib.Path:
    """Train ``item`` in ``workdir``, keep its log and write its record; return the record's path.

    Raises:
      StoppedError: a signal stopped the run; its workdir holds the checkpoint it goes on from.
    """
    try:
        record = {**_train(item, workdir), "campaign": campaign.path.stem}
    except StoppedError as error:
        raise StoppedError(
            f"{error.signal_name} stopped the campaign's run {item.name} after step {error.step}: its "
            f"checkpoint is in {workdir}; run the same campaign command again to resume it",
            error.signal_number,
            error.step,
        ) from None
    _keep_log(workdir, results_dir / f"{item.name}{LOG_SUFFIX}")
    target = results_dir / f"{item.name}.json"
    # a record is whole or absent, even if the campaign is killed here
    workdir_lib.write_text(target, json.dumps(record, indent=1) + "\n")
    shutil.rmtree(workdir)
    return target


def _train(item: Run, workdir: pathlib.Path) -> dict[str, Any]:
    """Train ``item`` in ``workdir`` (resuming it if it exists) and return its record; a run that
    diverges is a result of the comparison, not a failure of it: its record says where."""
    config = config_lib.load(item.config)
    for assignment in item.overrides:
        config_lib.override(config, assignment)
    try:
        train.fit(
            config, workdir, resume=workdir.exists(), command=item.command(workdir), log=lambda line: None
        )
        return report.collect(workdir)
    except train.TrainingDivergedError as error:
        return {
            "command": item.command(workdir),
            "config": workdir_lib.as_dict(config),
            "diverged": str(error),
            "diverged_at": error.step,
            "curve": report.read_curve(workdir, tasks.from_config(config.task).metric),
            "diagnostics": report.read_diagnostics(workdir),
        }


def _keep_log(workdir: pathlib.Path, target: pathlib.Path) -> None:
    """Copy ``workdir``'s ``metrics.jsonl`` to ``target``, whole or not at all; before the record is
    written, so that a recorded run's log is never lost with its workdir."""
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(workdir / workdir_lib.METRICS_FILE, partial)
    partial.replace(target)
