"""The RESULTS.md section of the pixel-MNIST reproduction of Le, Jaitly & Hinton (2015).

It reads four campaigns' records under ``<results>/``: ``mnist_pilots`` (how the IRNN's
protocol was found), ``mnist_comparison`` (four models on both pixel orders at one budget, each
model's learning rate from a pilot grid, every model with the IRNN's input and readout
initialisation), ``mnist_baselines`` (the LSTM, GRU, tanh and ReLU RNNs again under that protocol,
each with its own initialisation; they replace ``mnist_comparison``'s baselines in its table, which
move to a side table) and ``mnist_headline`` (the IRNN trained long on each order), and the
records of the weight-averaging analysis of the long sequential run (``mnist_averaging``). It
writes a table per campaign beside the paper's values (read off its figure 3) and a figure in the
paper's style: one panel per order, test accuracy against steps, one curve per model (the
headline figure adds a row zoomed in on each order's goal).
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.records import MODELS, budget, wall

PILOTS, COMPARISON, HEADLINE = "mnist_pilots", "mnist_comparison", "mnist_headline"
BASELINES = "mnist_baselines"
AVERAGING = "mnist_averaging"  # records of experiments/analyses/mnist_weight_averaging.py
ORDERS = ("sequential", "permuted")
# Approximate test accuracy read off the paper's figure 3 (about 10^6 SGD steps, batch 16).
PAPER = {
    "irnn": {"sequential": "~97%", "permuted": "~82%"},
    "lstm": {"sequential": "~65%", "permuted": "~36%"},
    "rnn_tanh": {"sequential": "~34%", "permuted": "~33%"},
    "rnn_relu": {"sequential": "~20%", "permuted": "~25%"},
    "gru": {"sequential": "", "permuted": ""},  # not in the paper
}
GOALS = {"sequential": 0.97, "permuted": 0.88}  # the headline runs' targets (issue 17)
LINE_STYLES = ("-", "-.", (0, (5, 2)))  # runs of one model in one panel, by step budget
# and a shade of the model's colour each: blended this far toward white (toward black if negative)
SHADES = (0.0, -0.45, 0.45)
SEVERAL_MARK_EVERY = 10  # where a panel has several runs of one model, a marker on every 10th point
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSProp"}
ZOOM = 0.05  # the headline figure's second row spans goal - ZOOM to goal + 0.01
Record = Mapping[str, Any]


def order(record: Record) -> str:
    """The pixel order a record's run read: sequential or permuted."""
    return "permuted" if record["config"]["task"]["permuted"] else "sequential"


def cell(record: Record) -> str:
    """The model a record's run trained."""
    return record["config"]["model"]["cell"]


def protocol(record: Record) -> str:
    """The optimiser and batch size a record's run trained with, such as ``SGD, batch 16``."""
    optim = record["config"]["optim"]
    name = OPTIMIZERS[optim["name"]] + (" with momentum" if optim.get("momentum") else "")
    return f"{name}, batch {record['config']['train']['batch_size']}"


def _accuracy(record: Record, split: str) -> str:
    """The final ``split`` accuracy in percent, or where the run diverged."""
    if "diverged" in record:
        return f"diverged at step {record.get('diverged_at', '?')}"
    return f"{100 * record[split]['accuracy']:.2f}%"


def _curve(record: Record, split: str = "test") -> tuple[list[int], list[float]]:
    """The steps and accuracies of a record's ``split`` curve."""
    points = [point for point in record["curve"] if point["split"] == split]
    return [point["step"] for point in points], [point["accuracy"] for point in points]


def pilot_table(records: Sequence[Record]) -> list[str]:
    """One row per pilot run (its name says what it changed): valid and test accuracy at its end."""
    lines = [
        "| pilot | order | model | protocol | lr | steps | valid accuracy | test accuracy | wall s "
        "| command |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        lines.append(
            f"| {record['name']} | {order(record)} | {MODELS[cell(record)]} | {protocol(record)} "
            f"| {record['config']['optim']['lr']:g} | {budget(record)} | {_accuracy(record, 'valid')} "
            f"| {_accuracy(record, 'test')} | {wall(record)} | `{record['command']}` |"
        )
    return lines


def comparison_table(records: Sequence[Record]) -> list[str]:
    """One row per (order, model): our test accuracy beside the paper's."""
    lines = [
        "| order | model | test accuracy (ours) | paper | lr | steps | wall s | command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in sorted(records, key=lambda r: (ORDERS.index(order(r)), list(MODELS).index(cell(r)))):
        lines.append(
            f"| {order(record)} | {MODELS[cell(record)]} | {_accuracy(record, 'test')} "
            f"| {PAPER[cell(record)][order(record)]} | {record['config']['optim']['lr']:g} "
            f"| {budget(record)} | {wall(record)} | `{record['command']}` |"
        )
    return lines


def headline_table(records: Sequence[Record]) -> list[str]:
    """One row per headline run: its test accuracy against the goal and the paper's IRNN, and its
    best validation point with the test accuracy there (what early stopping would have kept)."""
    lines = [
        "| order | protocol | test accuracy (ours) | goal | paper IRNN | best valid accuracy (step): "
        "test accuracy there | steps | wall s | command |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for record in sorted(records, key=lambda r: (ORDERS.index(order(r)), budget(r), protocol(r))):
        point, best = records_lib.best_point(record, "accuracy"), ""
        if point is not None:
            best = f"{100 * point.valid:.2f}% ({point.step}" + (", kept)" if point.kept else ")")
            best += "" if point.test is None else f": {100 * point.test:.2f}%"
        lines.append(
            f"| {order(record)} | {protocol(record)} | {_accuracy(record, 'test')} "
            f"| {100 * GOALS[order(record)]:.0f}% "
            f"| {PAPER['irnn'][order(record)]} | {best} | {budget(record)} | {wall(record)} "
            f"| `{record['command']}` |"
        )
    return lines


def averaging_table(directory: pathlib.Path) -> list[str]:
    """One row per set of averaged weights in ``directory`` (the means of the last checkpoints,
    then each SWA pilot's mean at its last evaluation; a pilot trained on all 60,000 training
    images has no held-out validation accuracy), or nothing if none was recorded."""
    rows = []
    checkpoints = directory / "checkpoint_average.json"
    if checkpoints.is_file():
        for average in json.loads(checkpoints.read_text())["averages"]:
            first, last = average["steps"][0], average["steps"][-1]
            name = f"the {len(average['steps'])} checkpoints of steps {first:,}-{last:,}"
            rows.append((name, f"{100 * average['valid']:.2f}%", average["test"]))
    for path in sorted(directory.glob("swa_lr*.jsonl")):
        start, *evaluations = map(json.loads, path.read_text().splitlines())
        if not evaluations:  # stopped before its first evaluation
            continue
        end = evaluations[-1]
        averaged = (
            f"SWA from step {start['start']:,}, lr {start['lr']:g}, {end['step'] - start['start']:,} steps"
        )
        valid = f"{100 * end['swa_valid']:.2f}%"
        if start.get("data") == "all":
            averaged, valid = f"{averaged} on all 60,000 training images", "trained on"
        rows.append((f"{averaged} ({end['averaged']} weights)", valid, end["swa_test"]))
    if not rows:
        return []
    return [
        "Weight averaging of the 1,000,000-step sequential run "
        "(`python experiments/analyses/mnist_weight_averaging.py checkpoints` and `swa`):",
        "",
        "| averaged weights | valid accuracy | test accuracy |",
        "|---|---|---|",
        *(f"| {name} | {valid} | {100 * test:.2f}% |" for name, valid, test in rows),
        "",
    ]


def notes(records: Sequence[Record]) -> list[str]:
    """The notes that runs carry in their records (a pause inside ``wall_s``, a run's segments)."""
    lines = [f"- {record['name']}: {record['note']}" for record in records if record.get("note")]
    return ["Notes:", "", *lines, ""] if lines else []


def plot(
    records: Sequence[Record], path: pathlib.Path, title: str, goals: dict[str, float] | None = None
) -> None:
    """One panel per order: test accuracy against steps, one curve per run (a colour per model;
    where a panel has several runs of one model, a shade of that colour, a line style, its protocol
    and its step budget per run). Where ``goals`` gives each order's goal, a dashed line marks it
    and a second row zooms in on it (``ZOOM`` below to one point above), so that the last points'
    distance to it can be read."""
    rows = 2 if goals else 1
    figure, axes = plt.subplots(rows, 2, figsize=(10, 3.8 * rows), squeeze=False)
    for column, name in enumerate(ORDERS):
        panel = sorted([r for r in records if order(r) == name], key=budget)
        for axis in axes[:, column]:
            _draw(axis, panel)
            if goals:
                axis.axhline(goals[name], color="black", linestyle="--", label=f"goal {goals[name]:.0%}")
            axis.set(xlabel="step")
            axis.grid(alpha=0.3)
        axes[0][column].axhline(0.1, color="gray", linestyle=":", label="chance")
        axes[0][column].set(title=f"{name} pixel MNIST", ylim=(0, 1))
        axes[0][column].legend(fontsize="small")
        if goals:
            axes[1][column].set(title=f"{name}: near the goal", ylim=(goals[name] - ZOOM, goals[name] + 0.01))
    for row in axes:
        row[0].set_ylabel("test accuracy")
    figure.suptitle(title)
    records_lib.save_figure(figure, path)


def _draw(axis: plt.Axes, panel: Sequence[Record]) -> None:
    """A panel's runs in the order given: a colour per model, a shade and a line style per run of
    one model."""
    for record in panel:
        same_model = [r for r in panel if cell(r) == cell(record)]
        several = len(same_model) > 1
        run = same_model.index(record)
        # one colour per model in both panels, a shade of it per run
        colour = _shade(f"C{list(MODELS).index(cell(record))}", SHADES[run % len(SHADES)])
        label = MODELS[cell(record)] + (f", {protocol(record)}, {budget(record):,} steps" if several else "")
        label += f" (diverged at {record['diverged_at']})" if "diverged" in record else ""
        style = LINE_STYLES[run % len(LINE_STYLES)]
        every = SEVERAL_MARK_EVERY if several else None  # sparse markers leave the line styles legible
        axis.plot(
            *_curve(record),
            color=colour,
            linestyle=style,
            marker="o",
            markersize=2,
            markevery=every,
            label=label,
        )


def _shade(colour: str, amount: float) -> tuple[float, float, float]:
    """``colour`` blended toward white by ``amount`` in [0, 1], or toward black by ``-amount``."""
    target = 1.0 if amount > 0 else 0.0
    red, green, blue = (c + abs(amount) * (target - c) for c in matplotlib.colors.to_rgb(colour))
    return red, green, blue


def _is_pilot(record: Record) -> bool:
    return record["name"].startswith("pilot_")


def init_effect(finished: Sequence[Record], former: Sequence[Record]) -> list[str]:
    """One row per (order, baseline) run both ways: its test accuracy with its own
    initialisation (in ``finished``) beside the one with the IRNN's (in ``former``)."""
    own = {(order(r), cell(r)): r for r in finished}
    lines = ["| order | model | own initialisation | the IRNN's initialisation |", "|---|---|---|---|"]
    for record in sorted(former, key=lambda r: (ORDERS.index(order(r)), list(MODELS).index(cell(r)))):
        if (order(record), cell(record)) in own:
            mine = own[order(record), cell(record)]
            lines.append(
                f"| {order(record)} | {MODELS[cell(record)]} | {_accuracy(mine, 'test')} "
                f"| {_accuracy(record, 'test')} |"
            )
    return lines


CONCLUSION = [
    "Conclusion (issue 39), read from the tables as recorded on 2026-12-05, when every baseline",
    "run had finished. Their own initialisation lifts the LSTM and the tanh RNN on both orders,",
    "and the ReLU RNN, which diverged at the first step with the random-walk matrix, trains on",
    "the sequential order (it still diverges on the permuted one). After 20,000 steps the IRNN",
    "is ahead of the LSTM and both plain RNNs on the sequential order, as in the paper, and",
    "behind the GRU, which the paper did not run. On the permuted order, at the rate the rule",
    "picked, it is behind every model that did not diverge; at the rate its own permuted pilots",
    "prefer (the note below) it is level with the LSTM and still far behind the tanh RNN and",
    "the GRU, so the paper's permuted ordering is not seen at this budget. The IRNN's long runs",
    "(the next table) come within a point of the paper's IRNN or pass it after 25 to 50 times",
    "the steps; no baseline was trained that long, so how the models rank at the paper's budget",
    "these runs cannot say.",
    "",
]


def _comparison_lines(
    comparison: Sequence[Record],
    baselines: Sequence[Record],
    figures_dir: pathlib.Path,
    output_dir: pathlib.Path,
) -> tuple[list[str], list[pathlib.Path]]:
    """The equal-budget comparison: the IRNN of ``comparison`` and the ``baselines`` in one table
    and figure, the pilot grids, and ``comparison``'s own baselines in a side table."""
    irnn = [r for r in comparison if cell(r) == "irnn" and not _is_pilot(r)]
    former = [r for r in comparison if cell(r) != "irnn" and not _is_pilot(r)]
    finished = irnn + [r for r in baselines if not _is_pilot(r)]
    lines = [
        "Our protocol: Adam, batch 32, clipping at 1, the learning rate cosine-decayed over one step",
        "budget shared by all models; each model's rate picked by validation accuracy from a short",
        "pilot grid on the sequential order, listed below. One seed. The IRNN:",
        "`experiments/campaigns/mnist_comparison.py`, the paper's initialisation. The baselines:",
        "`experiments/campaigns/mnist_baselines.py`, each with its own initialisation",
        "(`irnn_jax.config.INIT_BY_CELL`). The paper trained with SGD for about 10^6 steps, 50 times",
        "our 20,000: a model's standing here is its standing after a short run. The paper's values",
        "are read off its figure 3 (approximate); it has no GRU.",
        f"{len(finished)} of the comparison's runs recorded.",
        "",
    ]
    figures = []
    if finished:
        path = figures_dir / "mnist_comparison.png"
        plot(finished, path, "Pixel MNIST, equal budget")
        figures.append(path)
        lines += [
            *comparison_table(finished),
            "",
            f"![pixel MNIST comparison]({os.path.relpath(path, output_dir)})",
            "",
        ]
    grids = [r for r in comparison if _is_pilot(r) and cell(r) == "irnn"]
    grids += [{**r, "name": f"{r['name']} (own init)"} for r in baselines if _is_pilot(r)]
    grids += [
        {**r, "name": f"{r['name']} (the IRNN's init)"}
        for r in comparison
        if _is_pilot(r) and cell(r) != "irnn"
    ]
    if grids:
        lines += [
            "The learning-rate pilot grids (the IRNN's, and the baselines' with their own and with the",
            "IRNN's initialisation):",
            "",
            *pilot_table(grids),
            "",
        ]
    return lines + (_former_lines(finished, former) if former else []), figures


def _former_lines(finished: Sequence[Record], former: Sequence[Record]) -> list[str]:
    """The baselines as first run (``former``) beside ``finished``'s, and the conclusion once
    every row of the comparison is recorded."""
    rows = {(order(r), cell(r)) for r in finished}
    return [
        "The baselines as first run, every model with the IRNN's N(0, 0.001^2) input and readout",
        "weights and the ReLU RNN with the random-walk recurrent matrix; the table above replaced",
        "them (issue 39). The commands carry the config variants that now give a model that",
        "initialisation:",
        "",
        *comparison_table(former),
        "",
        "What the baselines' own initialisation changed, test accuracy:",
        "",
        *init_effect(finished, former),
        "",
        *(CONCLUSION if len(rows) == len(ORDERS) * len(MODELS) else []),
    ]


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list[pathlib.Path]]:
    """The markdown of the section and its figures (empty if none of its campaigns has run)."""
    pilots, comparison = records_lib.load(results_dir, PILOTS), records_lib.load(results_dir, COMPARISON)
    headline, baselines = records_lib.load(results_dir, HEADLINE), records_lib.load(results_dir, BASELINES)
    if not (pilots or comparison or headline):
        return "", []
    lines = ["## Pixel MNIST: IRNN against LSTM, GRU and RNNs (Le, Jaitly & Hinton 2015, figure 3)", ""]
    figures = []
    if comparison:
        comparison_lines, figures = _comparison_lines(comparison, baselines, figures_dir, output_dir)
        lines += comparison_lines
    lines += notes(comparison) + notes(baselines)
    if headline:
        path = figures_dir / "mnist_headline.png"
        plot(headline, path, "Pixel MNIST, the IRNN trained long", GOALS)
        figures.append(path)
        lines += [
            "### The IRNN trained long (`experiments/campaigns/mnist_headline.py`)",
            "",
            *headline_table(headline),
            "",
            f"![pixel MNIST headline runs]({os.path.relpath(path, output_dir)})",
            "",
            *notes(headline),
            *averaging_table(results_dir / AVERAGING),
        ]
    if pilots:
        lines += [
            "### How the IRNN's protocol was found (`experiments/campaigns/mnist_pilots.py`)",
            "",
            *pilot_table(pilots),
            "",
        ]
    return "\n".join(lines), figures
