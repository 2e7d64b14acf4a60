"""The speech section of RESULTS.md: the paper's table 2 on FSDD frames (issue 43, item 3).

From the records of ``experiments/campaigns/speech_table.py``: for each of the twelve models, the
learning rate validation chose (round 1, seed 0) and the mean and spread over its seeds at that
rate of the frame error rate on the validation ("dev") and test splits, in the paper's layout
(rows: the models, unidirectional then bidirectional; columns: 2 and 5 layers, dev / test), the
paper's TIMIT numbers beside ours; the orderings of the three models per column, ours and the
paper's; a figure of the test frame error rate against steps, one colour per model; and the
iRNN rows trained with another input and readout initialisation (``io_init=``), beside the
table's, where the campaign has them.
"""

from __future__ import annotations

import os
import pathlib
import re
import statistics
from collections.abc import Sequence

import matplotlib.pyplot as plt

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.records import Record

CAMPAIGN = "speech_table"
# Le, Jaitly & Hinton (2015), table 2: TIMIT frame error rate (%) dev / test, by (model,
# bidirectional) and layers.
PAPER = {
    ("rnn_tanh", False): {2: (35.0, 36.2), 5: (35.6, 37.0)},
    ("lstm", False): {2: (34.5, 35.4), 5: (35.0, 36.2)},
    ("irnn", False): {2: (34.3, 35.5), 5: (33.0, 33.8)},
    ("rnn_tanh", True): {2: (31.5, 32.4), 5: (33.9, 34.8)},
    ("lstm", True): {2: (29.6, 30.6), 5: (28.5, 29.1)},
    ("irnn", True): {2: (31.9, 33.2), 5: (28.9, 29.7)},
}
NAMES = {"rnn_tanh": "RNN (tanh)", "lstm": "LSTM", "irnn": "iRNN (0.01 I)"}
LAYERS = (2, 5)


def shape(record: Record) -> tuple[str, bool, int]:
    """``(model, bidirectional, layers)`` of a run."""
    model = record["config"]["model"]
    return model["cell"], model["bidirectional"], model["layers"]


def io_init(record: Record) -> str:
    """The ``io_init`` variant a run's command named (``'standard'`` where none)."""
    match = re.search(r"[:,]io_init=(\w+)", record["command"])
    return match.group(1) if match else "standard"


def chosen(records: Sequence[Record]) -> dict[tuple[str, bool, int], list[Record]]:
    """Each model's runs at the learning rate its seed-0 runs' lowest final validation frame
    error rate chose (only models whose round 1 finished: the rate has seeds beyond 0)."""
    picked = {}
    for key in sorted({shape(record) for record in records}):
        runs = [record for record in records if shape(record) == key and "diverged" not in record]
        first = [record for record in runs if record["config"]["seed"] == 0]
        if not first:
            continue
        best = min(first, key=lambda record: record["valid"]["frame_error_rate"])
        lr = best["config"]["optim"]["lr"]
        picked[key] = [record for record in runs if record["config"]["optim"]["lr"] == lr]
    return picked


# The learning rates each model's round 1 tries, and its seeds at the rate chosen
# (experiments/campaigns/speech_table.py).
RATES = 3
SEEDS = 3


def _cell(runs: Sequence[Record] | None, tried: int = RATES) -> str:
    """``dev / test`` in %, the mean over the runs (± their standard deviation), the seeds, and
    how many of the round-1 rates were recorded where not all (a partial grid's pick)."""
    if not runs:
        return "not run yet"
    parts = []
    for split in ("valid", "test"):
        values = [100 * run[split]["frame_error_rate"] for run in runs]
        spread = f" ± {statistics.stdev(values):.1f}" if len(values) > 1 else ""
        parts.append(f"{statistics.mean(values):.1f}{spread}")
    lr = runs[0]["config"]["optim"]["lr"]
    partial = f"; {tried} of {RATES} rates so far" if tried < RATES else ""
    seeds = f"{len(runs)} seed" + ("s" if len(runs) > 1 else "")
    return f"{parts[0]} / {parts[1]} ({seeds}, lr {lr:g}{partial})"


def orderings(picked: dict[tuple[str, bool, int], list[Record]]) -> list[str]:
    """Per direction and layer count, the models ordered by mean test frame error rate, ours
    beside the paper's; a column is left out until all three of its models have all their seeds."""
    lines = []
    for bidirectional in (False, True):
        for layers in LAYERS:
            keys = [(model, bidirectional, layers) for model in NAMES]
            if not all(len(picked.get(key, ())) >= SEEDS for key in keys):
                continue
            ours = sorted(
                keys, key=lambda key: statistics.mean(r["test"]["frame_error_rate"] for r in picked[key])
            )
            paper = sorted(keys, key=lambda key: PAPER[key[:2]][layers][1])
            direction = "bidirectional" if bidirectional else "unidirectional"
            lines.append(
                f"- {direction}, {layers} layers: paper {' < '.join(NAMES[k[0]] for k in paper)}; "
                f"ours {' < '.join(NAMES[k[0]] for k in ours)}"
            )
    return lines


def table(picked: dict[tuple[str, bool, int], list[Record]], records: Sequence[Record] = ()) -> list[str]:
    """The paper's layout: a row per model and direction, dev / test per layer count, ours
    beside the paper's."""
    header = " | ".join(f"{layers} layers: ours | {layers} layers: paper (TIMIT)" for layers in LAYERS)
    lines = [f"| model | {header} |", "|---|" + "---|" * (2 * len(LAYERS))]
    for (model, bidirectional), paper in PAPER.items():
        name = ("bidirectional " if bidirectional else "") + NAMES[model]
        cells = [
            f"{_cell(picked.get(key), _tried(records, key))} | {paper[layers][0]} / {paper[layers][1]}"
            for layers in LAYERS
            for key in [(model, bidirectional, layers)]
        ]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines


def _tried(records: Sequence[Record], key: tuple[str, bool, int]) -> int:
    """How many round-1 (seed 0) runs of the model ``key`` are recorded."""
    return sum(1 for record in records if shape(record) == key and record["config"]["seed"] == 0) or RATES


def io_table(records: Sequence[Record], picked: dict[tuple[str, bool, int], list[Record]]) -> list[str]:
    """The models also trained with another input and readout initialisation: a row per model, the
    table's runs (each cell's own initialisation; the iRNN's is the paper's N(0, 0.001^2)) beside
    each other ``io_init``'s runs."""
    others = [record for record in records if io_init(record) != "standard"]
    if not others:
        return []
    variants = sorted({io_init(record) for record in others})
    header = " | ".join(f"io_init={variant}" for variant in variants)
    lines = [f"| model | as in the table | {header} |", "|---|---|" + "---|" * len(variants)]
    for key in sorted({shape(record) for record in others}):
        model, bidirectional, layers = key
        name = f"{'bidirectional ' if bidirectional else ''}{NAMES[model]}, {layers} layers"
        cells = [
            _cell([r for r in others if shape(r) == key and io_init(r) == variant and "diverged" not in r])
            for variant in variants
        ]
        lines.append(f"| {name} | {_cell(picked.get(key))} | {' | '.join(cells)} |")
    return lines


def plot(picked: dict[tuple[str, bool, int], list[Record]], path: pathlib.Path) -> None:
    """Test frame error rate against steps: a panel per (direction, layers), a colour per model,
    one line per seed."""
    figure, axes = plt.subplots(2, len(LAYERS), figsize=(5 * len(LAYERS), 7), squeeze=False)
    colours = {model: f"C{index}" for index, model in enumerate(NAMES)}
    for row, bidirectional in enumerate((False, True)):
        for column, layers in enumerate(LAYERS):
            axis = axes[row][column]
            for model in NAMES:
                for index, run in enumerate(picked.get((model, bidirectional, layers), [])):
                    points = [p for p in run["curve"] if p["split"] == "test"]
                    axis.plot(
                        [p["step"] for p in points],
                        [100 * p["frame_error_rate"] for p in points],
                        color=colours[model],
                        label=NAMES[model] if index == 0 else None,
                    )
            direction = "bidirectional" if bidirectional else "unidirectional"
            axis.set(title=f"{direction}, {layers} layers", xlabel="step", ylabel="test frame error rate (%)")
            axis.grid(alpha=0.3)
            if axis.lines:  # a panel whose models have no records yet has nothing to name
                axis.legend(fontsize="small")
    figure.suptitle("Speech frames (FSDD): the paper's table 2 models")
    records_lib.save_figure(figure, path)


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list[pathlib.Path]]:
    """The markdown of the section and its figure (empty if the campaign has not run).

    Args:
      results_dir: the results directory, one subdirectory per campaign.
      figures_dir: where the figure goes.
      output_dir: the directory of the markdown file (figure links are relative to it).

    Returns:
      ``(markdown, figures written)``.
    """
    records = records_lib.load(results_dir, CAMPAIGN)
    if not records:
        return "", []
    standard = [record for record in records if io_init(record) == "standard"]
    picked = chosen(standard)
    path = figures_dir / "speech_table.png"
    plot(picked, path)
    lines = [
        "## Speech frames: the paper's table 2 on FSDD (Le, Jaitly & Hinton 2015, section 4.4)",
        "",
        "Frame error rate (%) on our validation (the paper's dev) and test splits of FSDD's MFCC "
        "frames, mean ± standard deviation over seeds at the learning rate validation chose "
        "(`experiments/campaigns/speech_table.py`: widths x 128/500, Adam, 3,000 steps); the "
        "paper's TIMIT numbers beside ours are another dataset's: compare the orderings, not the "
        "values.",
        "",
        *table(picked, standard),
        "",
    ]
    order = orderings(picked)
    if order:
        lines += ["Orderings by test frame error rate (lowest first):", "", *order, ""]
    other_io = io_table(records, picked)
    if other_io:
        lines += [
            "Models also trained with other input and readout weights (dev / test frame error "
            "rate, %, at the table's rate; `io_init=glorot`: the baselines' Glorot-uniform):",
            "",
            *other_io,
            "",
        ]
    lines += [f"![speech table]({os.path.relpath(path, output_dir)})", ""]
    return "\n".join(lines), [path]
