"""What the paper studies share: reading a campaign's records, the names of the models, a record's
budget, wall time and best validation point, and writing a figure."""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import matplotlib.pyplot as plt

from irnn_jax import config as config_lib
from irnn_jax.tasks.base import higher_is_better

Record = Mapping[str, Any]
# The models of the comparisons, as tables and legends name them (in this order).
MODELS = {"irnn": "IRNN", "lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN + tanh", "rnn_relu": "RNN + ReLU"}


def load(results_dir: pathlib.Path, campaign: str) -> list[Record]:
    """The records of ``campaign`` under ``results_dir`` (none if it has not run), each with its
    run's ``name`` (the record file's stem) and its command as run from the repository's root.

    Args:
      results_dir: the results directory, holding one subdirectory per campaign.
      campaign: the campaign's name, the subdirectory to read.

    Returns:
      The records of ``results_dir/campaign/*.json`` in file-name order, each with ``'name'`` and
      ``'command'`` (:func:`reproducible`) set.
    """
    paths = sorted((results_dir / campaign).glob("*.json"))
    records = {path.stem: json.loads(path.read_text()) for path in paths}
    return [{**record, "name": name, "command": reproducible(record)} for name, record in records.items()]


def reproducible(record: Record) -> str:
    """A record's command as run from the repository's root (:func:`portable`) and as it makes the
    same run today (:func:`irnn_jax.config.reproducing_command`).

    Args:
      record: a results record, with ``'command'`` and the model in ``'config'``.

    Returns:
      The command line.
    """
    return config_lib.reproducing_command(portable(record["command"]), record["config"]["model"])


def portable(command: str) -> str:
    """``command`` with a campaign workdir's absolute path made relative to the repository's root
    (``/home/me/irnn_jax/experiments/campaigns/x.runs/y`` -> ``experiments/campaigns/x.runs/y``),
    the campaign's default, so that the command reads the same on every machine.

    Args:
      command: a command line, such as a record's ``'command'``.

    Returns:
      ``command``, its ``--workdir`` made relative where it lies under ``experiments/campaigns/``.
    """
    return re.sub(r"(?<=--workdir )/\S*?/(?=experiments/campaigns/)", "", command)


def budget(record: Record) -> int:
    """The run's step budget (a diverged run's record holds it only in its config).

    Args:
      record: a results record.

    Returns:
      Its ``'steps'``, else its config's ``train.steps``, else 0.
    """
    return record.get("steps", record["config"].get("train", {}).get("steps", 0))


class BestPoint(NamedTuple):
    """A run's best validation point: its step, the validation and test values of the metric
    there, and whether the run kept that checkpoint (``train.keep_best``)."""

    step: int
    valid: float
    test: float | None
    kept: bool


def best_point(record: Record, metric: str) -> BestPoint | None:
    """Where ``metric`` was best on the validation split, and its test value there.

    Args:
      record: a results record.
      metric: the held-out metric (its direction from :func:`irnn_jax.tasks.base.higher_is_better`).

    Returns:
      The run's own best point where it kept one for ``metric`` (``train.keep_best``: its
      checkpoint loads with ``train.load(workdir, which="best")``), else the best point of its
      held-out curve (the first of equal values); ``None`` if the curve has no validation value.
    """
    kept = record.get("best")
    if kept and kept["metric"] == metric and record["config"].get("train", {}).get("keep_best") == metric:
        return BestPoint(kept["step"], kept["valid"][metric], kept["test"].get(metric), True)
    curve = record.get("curve", [])
    valid = [(point["step"], point[metric]) for point in curve if point["split"] == "valid"]
    tests = {point["step"]: point[metric] for point in curve if point["split"] == "test"}
    if not valid:
        return None
    sign = -1.0 if higher_is_better(metric) else 1.0
    step, value = min(valid, key=lambda pair: sign * pair[1])
    return BestPoint(step, value, tests.get(step), False)


def seconds(record: Record) -> float:
    """The run's wall seconds: across its resumes (``elapsed_s``) where the record has them, else
    ``wall_s`` (0 without either), which counts only the part after a resume.

    Args:
      record: a results record.

    Returns:
      Seconds.
    """
    elapsed = record.get("elapsed_s")
    return float(elapsed) if elapsed is not None else float(record.get("wall_s", 0.0))


def wall(record: Record) -> str:
    """The run's wall seconds as text, saying so where they count only the part after a resume.

    Args:
      record: a results record.

    Returns:
      Its seconds across resumes (``elapsed_s``) where it has them; else its ``'wall_s'`` (empty
      if it has none), followed by ``(steps N on)`` for a run resumed from step N.
    """
    if record.get("elapsed_s") is not None:
        return f"{record['elapsed_s']}"
    seconds, resumed_from = record.get("wall_s", ""), record.get("resumed_from")
    return f"{seconds} (steps {resumed_from} on)" if resumed_from else f"{seconds}"


def save_figure(figure: Any, path: pathlib.Path) -> None:
    """Lay out ``figure``, write it to ``path`` (a PNG) and close it.

    Args:
      figure: a matplotlib figure.
      path: the PNG to write; its directory is created if missing.
    """
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
