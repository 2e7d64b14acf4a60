"""Results report: run summaries in, ``RESULTS.md`` tables and PNG figures out.

- :func:`collect` turns a run's workdir (``summary.json`` and ``metrics.jsonl``) into one
  results record: the summary, the command that produced it, and the held-out learning curve.
- :func:`write_report` reads every ``*.json`` record of a results directory and writes
  ``RESULTS.md`` (one table per task: our budget and numbers beside the papers', with the command
  of each run) and one figure per task (the test metric against training steps; for the adding
  problem one panel per sequence length T, as in the paper's figures), plus, for each run that
  logged diagnostics, a figure of ``||dL/dh_t||`` through time, the spectrum of ``w_hh`` and the
  spectral radius and active ReLUs over training; and the initialiser comparison's section
  (:mod:`irnn_jax.reproduce.studies.init_comparison`) from the campaign records in subdirectories.

Numbers are never typed in by hand: a table row is a record, a record is a run.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib.pyplot as plt

from irnn_jax.core.errors import UserError, WorkdirError
from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.studies import adding as adding_study
from irnn_jax.reproduce.studies import eigen_claims, eigen_spectra, init_comparison, tomita_protocols
from irnn_jax.reproduce.studies import language_model as language_model_study
from irnn_jax.reproduce.studies import mnist as mnist_study
from irnn_jax.reproduce.studies import speech as speech_study
from irnn_jax.reproduce.studies import translation as translation_study
from irnn_jax.tasks.base import format_metric
from irnn_jax.training import workdir as workdir_lib

# The papers' numbers, as the brief and Le et al. 2015 state them (abstract, sections 4.1-4.2).
PAPER = {
    "adding": "compares models at T = 150-400 (the adding-problem campaign's section reproduces it)",
    "mnist": "IRNN 97% test accuracy (sequential), 82% (permuted), about 10^6 steps",
    "ptb": "not run on PTB (the paper's LM task was a larger corpus)",
    "speech": "not run on these data (the paper used TIMIT frames)",
    "tomita": "not a task of the IRNN paper; the main benchmark of Dou & Principe (2023), whose "
    "initialiser comparison is the last section",
    "translation": "not a task of the IRNN paper; Dou & Principe (2023) translate Multi30k, which "
    "installs from no package here (the translation section compares initialisers on Bible verses)",
}
TITLES = {
    "adding": "Adding problem (Le et al. 2015, section 4.1)",
    "mnist": "Pixel MNIST (Le et al. 2015, section 4.2)",
    "ptb": "Penn Treebank language modelling (section 4.3 set-up, other corpus)",
    "speech": "Speech frame classification (section 4.4 set-up, other data)",
    "tomita": "Tomita grammars (generated; the benchmark of Dou & Principe 2023)",
    "translation": "Translation, Spanish to English verses (the third task of Dou & Principe 2023)",
}


def collect(workdir: str | pathlib.Path, command: str | None = None) -> dict[str, Any]:
    """The results record of a finished run in ``workdir``.

    ``command`` stands in for the command line when ``summary.json`` records none (runs made
    before it was recorded).

    Args:
      workdir: the run's workdir, holding ``summary.json`` and ``metrics.jsonl``.
      command: the command that made the run, used only where ``summary.json`` records none.

    Returns:
      The summary, plus ``'command'``, ``'curve'`` (:func:`read_curve` of the summary's metric)
      and, where the run logged any, ``'diagnostics'`` (:func:`read_diagnostics`).

    Raises:
      WorkdirError: ``workdir`` holds a sweep, has no ``summary.json`` (not a finished run), or
        neither its summary nor ``command`` gives the command.
    """
    workdir = pathlib.Path(workdir)
    summary_path = workdir / workdir_lib.SUMMARY_FILE
    if (workdir / workdir_lib.SWEEP_FILE).is_file():
        raise WorkdirError(
            f"{workdir} holds a sweep ({workdir_lib.SWEEP_FILE}), not one run: its per-run results are "
            f"there; train the chosen run with `irnn-jax train` to collect it"
        )
    if not summary_path.is_file():
        raise WorkdirError(f"{workdir} has no {workdir_lib.SUMMARY_FILE}: not a finished run")
    summary = json.loads(summary_path.read_text())
    curve = read_curve(workdir, summary["metric"])
    diagnostics = read_diagnostics(workdir)
    if diagnostics:
        summary["diagnostics"] = diagnostics
    command = summary.get("command") or command
    if not command:
        raise WorkdirError(f"{workdir}: summary.json records no command; pass the command that made the run")
    return {**summary, "command": command, "curve": curve}


def read_curve(workdir: str | pathlib.Path, metric: str) -> list[dict[str, Any]]:
    """The held-out ``metric`` of a run's ``metrics.jsonl``, ``{step, split, metric}`` per line.

    Args:
      workdir: the run's workdir.
      metric: the name of the metric to read, such as ``'accuracy'``.

    Returns:
      One ``{'step': ..., 'split': ..., metric: ...}`` per ``'valid'`` or ``'test'`` line that has
      ``metric``, in the file's order; empty if there is no ``metrics.jsonl``.
    """
    curve = []
    metrics_path = pathlib.Path(workdir) / workdir_lib.METRICS_FILE
    if metrics_path.is_file():
        for line in metrics_path.read_text().splitlines():
            record = json.loads(line)
            if record["split"] in ("valid", "test") and metric in record:
                curve.append({"step": record["step"], "split": record["split"], metric: record[metric]})
    return curve


def read_diagnostics(workdir: str | pathlib.Path) -> list[dict[str, Any]]:
    """The snapshots of a run's ``diagnostics.jsonl`` (none if it logged none).

    Args:
      workdir: the run's workdir.

    Returns:
      One dict per line of ``diagnostics.jsonl``, in its order; empty if the file is missing.
    """
    path = pathlib.Path(workdir) / workdir_lib.DIAGNOSTICS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def label(record: Mapping[str, Any]) -> str:
    """A short name for a run: its config file and variant, then its ``--config.`` overrides
    (a seed among them, where the command sets one).

    Args:
      record: a results record; only its ``'command'`` is read.

    Returns:
      The config spec's file name and variant (``'?'`` if the command has no ``--config``),
      followed by the overrides without their ``--config.`` prefix, space-separated.
    """
    words = shlex.split(record["command"])
    spec = words[words.index("--config") + 1].rsplit("/", 1)[-1] if "--config" in words else "?"
    overrides = [word.removeprefix("--config.") for word in words if word.startswith("--config.")]
    return " ".join([spec, *overrides])


def groups(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Records by task, and by headline metric where a task has several (PTB words and chars):
    keys ``'<task>'`` or ``'<task>_<metric>'``, in the order of :data:`TITLES`.

    Args:
      records: results records, each with ``'metric'`` and the task's name in ``'config'``.

    Returns:
      ``{key: records}``, tasks in the order of :data:`TITLES` (unknown tasks last) and then by
      metric, each group's records sorted by :func:`label`.
    """
    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        by_key.setdefault((record["config"]["task"]["name"], record["metric"]), []).append(record)
    tasks = [task for task, _ in by_key]
    order = list(TITLES)
    return {
        (task if tasks.count(task) == 1 else f"{task}_{metric}"): sorted(runs, key=label)
        for (task, metric), runs in sorted(
            by_key.items(),
            key=lambda item: (order.index(item[0][0]) if item[0][0] in order else 99, item[0][1]),
        )
    }


def markdown(
    records: Iterable[Mapping[str, Any]], figures: Mapping[str, str], results_dir: str = "experiments/results"
) -> str:
    """``RESULTS.md``: one section per task (and metric), each a table of runs and a figure.

    Args:
      records: the results records (finished runs: each with ``'steps'``, ``'wall_s'``,
        ``'valid'``, ``'test'``, ``'baseline'`` and ``'command'``).
      figures: ``{group key: path}`` of the figures to link, relative to the markdown file; the
        keys are those of :func:`groups`.
      results_dir: the records' directory, as the header names it.

    Returns:
      The markdown text.
    """
    lines = [
        "# Results",
        "",
        f"Generated by `irnn-jax report` from `{results_dir}/*.json` (one record per run, made",
        "with `irnn-jax report --collect WORKDIR`); edit the notes in those records, not this file.",
        "Every number below comes from the run whose command is beside it.",
        "",
    ]
    for key, runs in groups(records).items():
        task, metric = runs[0]["config"]["task"]["name"], runs[0]["metric"]
        title = TITLES.get(task, task) + (f": {metric}" if key != task else "")
        lines += [f"## {title}", "", f"Paper: {PAPER.get(task, '-')}.", ""]
        lines += [
            f"| run | steps | wall s | valid {metric} | test {metric} | baseline | command |",
            "|---|---|---|---|---|---|---|",
        ]
        for record in runs:
            valid, test, baseline = (
                format_metric(metric, value)
                for value in (record["valid"][metric], record["test"][metric], record["baseline"])
            )
            lines.append(
                f"| {label(record)} | {record['steps']:,} | {records_lib.wall(record)} | {valid} | {test} | "
                f"{baseline} | `{record['command']}` |"
            )
        notes = [record["note"] for record in runs if record.get("note")]
        if notes:
            lines += ["", *[f"- {note}" for note in notes]]
        if key in figures:
            lines += ["", f"![{key}]({figures[key]})"]
        lines.append("")
    return "\n".join(lines)


def plot(task: str, records: list[Mapping[str, Any]], path: pathlib.Path) -> None:
    """Test metric against steps for every run of ``task`` (adding: one panel per T).

    Args:
      task: the task's name, which picks the title and, for ``'adding'``, the panels.
      records: the task's records (one metric), each with a ``'curve'`` and a ``'baseline'``.
      path: the PNG to write; its directory is created if missing.
    """
    metric = records[0]["metric"]
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        key = f"T = {record['config']['task']['seq_len']}" if task == "adding" else ""
        groups.setdefault(key, []).append(record)
    figure, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4), squeeze=False)
    for axis, (title, group) in zip(axes[0], sorted(groups.items()), strict=True):
        group = sorted(group, key=label)
        for record, name in zip(group, distinguishing_labels(group), strict=True):
            points = [(point["step"], point[metric]) for point in record["curve"] if point["split"] == "test"]
            if points:
                steps, values = zip(*points, strict=True)
                axis.plot(steps, values, marker="o", markersize=3, label=name)
        for baseline in sorted({record["baseline"] for record in group}):  # one per dataset
            axis.axhline(
                baseline, color="gray", linestyle="--", linewidth=1, label=f"baseline {baseline:.4g}"
            )
        if metric in ("mse", "perplexity"):
            axis.set_yscale("log")
        axis.set_xlabel("training steps")
        axis.set_ylabel(f"test {metric}")
        axis.set_title(f"{TITLES.get(task, task).split(' (')[0]} {title}".strip())
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.15))
        axis.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")  # the legends below the panels, uncut
    plt.close(figure)


def distinguishing_labels(records: list[Mapping[str, Any]]) -> list[str]:
    """Each record's :func:`label` without the words every record of ``records`` shares (what a
    legend needs to tell the curves apart); the whole label for a single record.

    Args:
      records: the records to tell apart.

    Returns:
      One label per record, in their order; ``'run'`` where nothing is left.
    """
    words = [label(record).split() for record in records]
    if len(words) < 2:
        return [" ".join(each) for each in words]
    shared = set.intersection(*(set(each) for each in words))
    return [" ".join(word for word in each if word not in shared) or "run" for each in words]


def write_report(
    results_dir: str | pathlib.Path, output: str | pathlib.Path, figures_dir: str | pathlib.Path
) -> list[pathlib.Path]:
    """Write ``output`` (markdown) and one PNG per task under ``figures_dir``; return the PNGs.

    Also writes a diagnostics figure per run that logged diagnostics, and the sections (and
    figures) of the campaigns whose records are in subdirectories of ``results_dir``.

    Args:
      results_dir: the directory of the ``*.json`` results records (campaigns in subdirectories).
      output: the markdown file to write, such as ``RESULTS.md``.
      figures_dir: where the PNGs go; created if missing.

    Returns:
      Every PNG written: the tasks', the diagnostics' and the campaign sections'.

    Raises:
      UserError: ``results_dir`` has no ``*.json`` file, or one of them is not a results record.
    """
    results_dir, output, figures_dir = map(pathlib.Path, (results_dir, output, figures_dir))
    files = sorted(results_dir.glob("*.json"))
    if not files:
        raise UserError(f"no results records (*.json) in {results_dir}")
    records = [json.loads(file.read_text()) for file in files]
    for file, record in zip(files, records, strict=True):
        missing = [
            key for key in ("metric", "valid", "test", "config", "command", "curve") if key not in record
        ]
        if missing:
            raise UserError(
                f"{file} is not a results record (missing {', '.join(missing)}); make it with --collect"
            )
    records = [{**record, "command": records_lib.reproducible(record)} for record in records]
    figures = {}
    for key, group in groups(records).items():
        path = figures_dir / f"{key}.png"
        plot(group[0]["config"]["task"]["name"], group, path)
        figures[key] = os.path.relpath(path, output.parent)
    written = [figures_dir / f"{key}.png" for key in figures]
    diagnostics_figures = {}
    for file, record in zip(files, records, strict=True):
        if record.get("diagnostics"):
            path = figures_dir / f"diagnostics_{file.stem}.png"
            plot_diagnostics(record, path)
            diagnostics_figures[label(record)] = os.path.relpath(path, output.parent)
            written.append(path)
    text = markdown(records, figures, str(results_dir))
    if diagnostics_figures:
        text += "\n## Diagnostics\n\n" + "".join(
            f"{name}:\n\n![{name}]({path})\n\n" for name, path in diagnostics_figures.items()
        )
    for section, section_figures in _campaign_sections(results_dir, figures_dir, output.parent):
        text += "\n" + section
        written += section_figures
    output.write_text(text)
    return written


# The studies whose sections follow the tasks' tables, in this order.
STUDIES = (
    init_comparison,
    tomita_protocols,
    eigen_spectra,
    eigen_claims,
    adding_study,
    mnist_study,
    language_model_study,
    speech_study,
    translation_study,
)


def _campaign_sections(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> list[tuple[str, list[pathlib.Path]]]:
    """The campaigns' sections (from their subdirectories) that have records, and their figures."""
    sections = [study.section(results_dir, figures_dir, output_dir) for study in STUDIES]
    return [(text, figures) for text, figures in sections if text]


def plot_diagnostics(record: Mapping[str, Any], path: pathlib.Path) -> None:
    """``||dL/dh_t||`` against t at each logged step, the ``w_hh`` eigenvalues at the first and
    last logged steps, and the spectral radius and active fraction over training.

    Args:
      record: a results record with ``'diagnostics'`` (at least one snapshot) and ``'command'``.
      path: the PNG to write; its directory is created if missing.
    """
    snapshots = record["diagnostics"]
    figure, (norms, spectrum, trend) = plt.subplots(1, 3, figsize=(15, 4))
    colors = plt.cm.viridis([i / max(len(snapshots) - 1, 1) for i in range(len(snapshots))])
    for snapshot, color in zip(snapshots, colors, strict=True):
        values = snapshot["state_grad_norms"]
        norms.plot(range(1, len(values) + 1), values, color=color, label=f"step {snapshot['step']}")
    norms.set_yscale("log")
    norms.set_xlabel("time step t")
    norms.set_ylabel("||dL/dh_t||")
    norms.set_title("gradient reaching each hidden state")
    norms.legend(fontsize=7)
    circle = [complex(math.cos(2 * math.pi * i / 200), math.sin(2 * math.pi * i / 200)) for i in range(201)]
    spectrum.plot([z.real for z in circle], [z.imag for z in circle], color="gray", linewidth=0.8)
    for snapshot, marker in ((snapshots[0], "o"), (snapshots[-1], "x")):
        spectrum.scatter(
            snapshot["eigenvalues_real"],
            snapshot["eigenvalues_imag"],
            s=12,
            marker=marker,
            label=f"step {snapshot['step']}",
        )
    spectrum.set_aspect("equal")
    spectrum.set_title("eigenvalues of w_hh")
    spectrum.legend(fontsize=7)
    steps = [snapshot["step"] for snapshot in snapshots]
    trend.plot(
        steps, [snapshot["spectral_radius"] for snapshot in snapshots], marker="o", label="spectral radius"
    )
    trend.plot(
        steps,
        [snapshot["active_fraction"] for snapshot in snapshots],
        marker="s",
        label="fraction of units > 0 (active ReLUs)",
    )
    trend.set_xlabel("training steps")
    trend.set_title("over training")
    trend.legend(fontsize=7)
    figure.suptitle(label(record))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
