"""The RESULTS.md section of the initialiser comparison of Dou & Principe (2023).

It reads the records of the campaigns ``eigen_tomita`` (grammars x initialisers x seeds) and
``eigen_mnist`` (initialisers, one seed), kept in ``<results>/eigen_tomita/`` and
``<results>/eigen_mnist/``, and writes: a grammar x initialiser table of accuracy on the training
lengths and on the longer test strings (mean and spread over seeds, the best per grammar in
bold), the MNIST test-accuracy curves, the eigenvalues of ``w_hh`` at initialisation (one panel
per initialiser) and ``||dL/dh_t||`` through time at initialisation on a Tomita batch and an
MNIST batch. ``eigen_tomita_hard`` (the same comparison on the protocol that the pilot
``tomita_protocols`` chose) gets the Tomita tables too. The gated cells' campaigns
(``eigen_gated_tomita``, ``eigen_gated_mnist``) get the same tables and curves, per cell, with the
initialisers of :data:`GATED`.
"""

from __future__ import annotations

import itertools
import math
import os
import pathlib
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt

from irnn_jax.reproduce import records as records_lib

TOMITA, MNIST = "eigen_tomita", "eigen_mnist"
HARD_TOMITA = "eigen_tomita_hard"  # the ReLU comparison again, on the protocol that separates it
GATED_TOMITA, GATED_MNIST = "eigen_gated_tomita", "eigen_gated_mnist"
# The recurrent initialisers of our Dou & Principe (2023) comparison, with the names tables use.
COMPARED = {
    "identity": "IRNN (I)",
    "scaled_identity": "0.01 I",
    "orthogonal": "orthogonal",
    "glorot_normal": "Xavier",
    "he_normal": "Kaiming",
    "np_rnn": "np-RNN (for sp-RNN)",
    "random_walk": "random walk",
    "eigen": "eigen (our reading)",
}
# The recurrent initialisers of the gated cells' comparison (issue 44), as tables name them.
GATED = {
    "eigen": "eigen (per gate block)",
    "orthogonal": "orthogonal",
    "glorot_normal": "Xavier",
    "he_normal": "Kaiming",
    "uniform": "PyTorch default",
}
Record = Mapping[str, Any]
# How the eigen initialiser applies to a gated cell (issue 44 asks for the choice and its reason).
GATED_EIGEN_CHOICE = (
    "How eigen applies to a gated cell: each gate's [H, H] recurrent block gets its own eigen draw"
    " (magnitudes in [0.9, 1], phases in [0, pi]). An eigenvalue spectrum belongs to a square map"
    " from the state to itself, which each gate's block is and the whole [H, 4H] (LSTM) or"
    " [H, 3H] (GRU) matrix is not; one block for a single gate would have to choose the gate and"
    " leave the others to another initialiser. Every other initialiser here is drawn per gate"
    " block the same way, so only the recurrent initialiser differs between columns."
)


def init_name(record: Record) -> str:
    """The recurrent initialiser a record's run used."""
    return record["config"]["model"]["recurrent_init"]["name"]


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list[pathlib.Path]]:
    """The markdown of the section and the figures it shows (empty if no campaign has run)."""
    tomita, mnist = records_lib.load(results_dir, TOMITA), records_lib.load(results_dir, MNIST)
    hard = records_lib.load(results_dir, HARD_TOMITA)
    gated = {name: records_lib.load(results_dir, name) for name in (GATED_TOMITA, GATED_MNIST)}
    if not tomita and not mnist and not hard and not any(gated.values()):
        return "", []
    lines = [
        "## Initialiser comparison (Dou & Principe 2023)",
        "",
        "Recurrent initialisers compared at one protocol per task; only `model.recurrent_init` changes.",
        "Our eigen initialiser is our reading of the paper's abstract (a spectrum of magnitudes in",
        "[0.9, 1] and phases in [0, pi]), not the paper's recipe, which we could not read offline; nor",
        "could we read the paper's own accuracies, so no paper number stands beside ours. The paper's",
        "sp-RNN could not be identified: np-RNN (Talathi & Vartak 2015) stands in for it.",
        "",
    ]
    figures: list[pathlib.Path] = []
    if tomita:
        lines += tomita_tables(tomita)
    if hard:
        protocol = hard[0]["name"].split("_tomita")[0]
        heading = f"### Tomita grammars on the protocol that separates the initialisers ({protocol})"
        lines += tomita_tables(hard, heading, COMPARED, HARD_TOMITA)
    if mnist:
        lines += mnist_table(mnist)
        path = figures_dir / "init_mnist_curves.png"
        plot_curves(mnist, path)
        figures.append(path)
    with_diagnostics = [record for record in tomita + mnist if record.get("diagnostics")]
    if with_diagnostics:
        for name, plotter in (("init_spectra.png", plot_spectra), ("init_gradients.png", plot_gradients)):
            path = figures_dir / name
            plotter(tomita, mnist, path)
            figures.append(path)
    lines += [f"![{path.stem}]({os.path.relpath(path, output_dir)})\n" for path in figures]
    gated_lines, gated_figures = gated_part(gated[GATED_TOMITA], gated[GATED_MNIST], figures_dir, output_dir)
    return "\n".join(lines + gated_lines) + "\n", figures + gated_figures


def gated_part(
    tomita: Sequence[Record], mnist: Sequence[Record], figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[list[str], list[pathlib.Path]]:
    """The gated cells' tables and MNIST curves, per cell (the initialisers of :data:`GATED`):
    ``(markdown lines, figures written)``."""
    lines = ["### Gated cells (LSTM, GRU)", "", GATED_EIGEN_CHOICE, ""] if tomita or mnist else []
    figures: list[pathlib.Path] = []
    for cell in ("lstm", "gru"):
        name = records_lib.MODELS[cell]
        cell_tomita = [record for record in tomita if record["config"]["model"]["cell"] == cell]
        cell_mnist = [record for record in mnist if record["config"]["model"]["cell"] == cell]
        if cell_tomita:
            lines += tomita_tables(cell_tomita, f"### {name}: Tomita grammars", GATED, GATED_TOMITA)
        if cell_mnist:
            lines += mnist_table(cell_mnist, f"### {name}: sequential pixel MNIST", GATED)
            path = figures_dir / f"init_gated_mnist_{cell}.png"
            plot_curves(cell_mnist, path, f"Sequential pixel MNIST, {name}: recurrent initialisers", GATED)
            figures.append(path)
            lines.append(f"![{path.stem}]({os.path.relpath(path, output_dir)})\n")
    return lines, figures


def _cell(values: Sequence[float], bold: bool) -> str:
    """``mean ± std`` of accuracies in percent (std over seeds; none for one value), in bold for
    the best of its row."""
    mean = 100 * statistics.fmean(values)
    text = f"{mean:.1f}" + (f" ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 else "")
    return f"**{text}**" if bold else text


def tomita_tables(
    records: Sequence[Record],
    heading: str = "### Tomita grammars",
    names: Mapping[str, str] = COMPARED,
    campaign: str = TOMITA,
) -> list[str]:
    """Two grammar x initialiser tables (training lengths, longer test strings) of accuracy, the
    initialisers those of ``names`` (in its order and words) that ``records`` ran."""
    inits = [name for name in names if any(init_name(record) == name for record in records)]
    grammars = sorted({record["config"]["task"]["grammar"] for record in records})
    diverged = [record for record in records if "diverged" in record]
    finished = [record for record in records if "diverged" not in record]
    seeds = sorted({record["config"]["seed"] for record in records})
    wall = sum(records_lib.seconds(record) for record in finished)
    config = finished[0]["config"] if finished else records[0]["config"]
    lines = [
        heading,
        "",
        f"{len(records)} runs: grammars {', '.join(map(str, grammars))} x {len(inits)} initialisers x "
        f"seeds {', '.join(map(str, seeds))}; {config['model']['hidden_size']} {_units(config)} units, "
        f"{config['optim']['name']} lr {config['optim']['lr']:g}, clip {config['optim']['clip']:g}, "
        f"batch {config['train']['batch_size']}, {config['train']['steps']:,} steps each; "
        f"measured training time {wall / 60:.0f} min in all (one core per run). Accuracy in %, mean ± "
        f"std over seeds; the best mean per grammar in bold. Command of each run: its record in "
        f"`experiments/results/{campaign}/`; all: `irnn-jax campaign experiments/campaigns/{campaign}.py`.",
        "",
    ]
    if diverged:
        lines += [f"Diverged (not averaged): {', '.join(_run_name(record) for record in diverged)}.", ""]
    for split, title in (("valid", "training lengths"), ("test", "longer test strings")):
        lengths = config["task"]["train_lengths" if split == "valid" else "test_lengths"]
        lines += [
            f"Accuracy on {title} ({lengths[0]}-{lengths[1]}):",
            "",
            "| grammar | " + " | ".join(names[name] for name in inits) + " |",
            "|---|" + "---|" * len(inits),
        ]
        for grammar in grammars:
            values = {
                name: [
                    record[split]["accuracy"]
                    for record in finished
                    if record["config"]["task"]["grammar"] == grammar and init_name(record) == name
                ]
                for name in inits
            }
            shown = {name: round(100 * statistics.fmean(v), 1) for name, v in values.items() if v}
            best = max(shown.values(), default=None)  # ties as displayed are all best
            cells = [_cell(v, shown[name] == best) if v else "-" for name, v in values.items()]
            lines.append(f"| {grammar} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _units(config: Mapping[str, Any]) -> str:
    """What a run's units are: ``'ReLU'`` for the IRNN and ReLU RNN (also records without a
    ``cell``, made before the field), else the cell's name."""
    cell = config["model"].get("cell", "irnn")
    return "ReLU" if cell in ("irnn", "rnn_relu") else records_lib.MODELS.get(cell, cell)


def _run_name(record: Record) -> str:
    config = record["config"]
    return f"grammar {config['task']['grammar']} {init_name(record)} seed {config['seed']}"


def mnist_table(
    records: Sequence[Record],
    heading: str = "### Sequential pixel MNIST",
    names: Mapping[str, str] = COMPARED,
) -> list[str]:
    """One row per initialiser (in the order and words of ``names``): final valid and test
    accuracy, wall time and command."""
    lines = [
        heading,
        "",
        "| initialiser | steps | wall s | valid accuracy | test accuracy | command |",
        "|---|---|---|---|---|---|",
    ]
    for record in sorted(records, key=lambda record: list(names).index(init_name(record))):
        if "diverged" in record:
            lines.append(
                f"| {names[init_name(record)]} | diverged at step {record['diverged_at']:,} | | | | "
                f"`{record['command']}` |"
            )
            continue
        lines.append(
            f"| {names[init_name(record)]} | {record['steps']:,} | {records_lib.wall(record)} | "
            f"{100 * record['valid']['accuracy']:.2f}% | {100 * record['test']['accuracy']:.2f}% | "
            f"`{record['command']}` |"
        )
    return [*lines, "", *wobble(records)]


def late_falls(records: Sequence[Record]) -> list[float]:
    """How far each finished run's test accuracy fell between consecutive held-out passes in the
    second half of its training, every run's falls together (a run still climbing has none: its
    rises are learning, not noise)."""
    falls = []
    for record in records:
        if "diverged" in record:
            continue
        points = sorted(
            (point["step"], point["accuracy"])
            for point in record.get("curve", [])
            if point["split"] == "test"
        )
        late = [accuracy for step, accuracy in points if step >= record["steps"] / 2]
        falls += [before - after for before, after in itertools.pairwise(late) if after < before]
    return falls


def wobble(records: Sequence[Record]) -> list[str]:
    """A sentence on the runs' :func:`late_falls` (largest and median), the scale below which a gap
    between two one-seed runs ranks nothing; empty without a late fall in any run."""
    falls = late_falls(records)
    if not falls:
        return []
    return [
        "Between consecutive held-out passes in the second half of training, a run's test accuracy "
        f"fell by up to {100 * max(falls):.1f} points (median fall {100 * statistics.median(falls):.1f}); "
        "a gap between two runs smaller than that is within a run's own wobble.",
        "",
    ]


def plot_curves(
    records: Sequence[Record],
    path: pathlib.Path,
    title: str = "Sequential pixel MNIST: recurrent initialisers at one budget",
    names: Mapping[str, str] = COMPARED,
) -> None:
    """Test accuracy against training steps, one line per initialiser (named as ``names`` says)."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for record in records:
        points = [
            (point["step"], point["accuracy"])
            for point in record.get("curve", [])
            if point["split"] == "test"
        ]
        if points:
            steps, values = zip(*points, strict=True)
            name = names[init_name(record)]
            if "diverged_at" in record:
                name += f" (diverged at step {record['diverged_at']:,})"
            axis.plot(steps, values, marker="o", markersize=3, label=name)
    axis.set_xlabel("training steps")
    axis.set_ylabel("test accuracy")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    records_lib.save_figure(figure, path)


def _initial(records: Sequence[Record], name: str) -> Mapping[str, Any] | None:
    """The step-0 diagnostics of the first record of initialiser ``name`` that has them."""
    for record in records:
        if init_name(record) == name and record.get("diagnostics"):
            return record["diagnostics"][0]
    return None


def plot_spectra(tomita: Sequence[Record], mnist: Sequence[Record], path: pathlib.Path) -> None:
    """The eigenvalues of ``w_hh`` at initialisation, one panel per initialiser, with the unit
    circle (from the MNIST runs, 100 units, where there are any; else the Tomita runs)."""
    source = mnist if any(record.get("diagnostics") for record in mnist) else tomita
    figure, axes = plt.subplots(2, 4, figsize=(13, 6.8))
    circle = [2 * math.pi * i / 200 for i in range(201)]
    for axis, name in zip(axes.flat, COMPARED, strict=True):
        snapshot = _initial(source, name)
        axis.plot([math.cos(a) for a in circle], [math.sin(a) for a in circle], color="gray", linewidth=0.8)
        if snapshot is not None:
            axis.scatter(snapshot["eigenvalues_real"], snapshot["eigenvalues_imag"], s=8)
            axis.set_title(f"{COMPARED[name]}\nspectral radius {snapshot['spectral_radius']:.3g}", fontsize=9)
        axis.set_aspect("equal")
        axis.grid(alpha=0.3)
    figure.suptitle("Eigenvalues of w_hh at initialisation")
    records_lib.save_figure(figure, path)


def plot_gradients(tomita: Sequence[Record], mnist: Sequence[Record], path: pathlib.Path) -> None:
    """``||dL/dh_t||`` against t at initialisation, one line per initialiser: on the first
    training batch of a Tomita run (grammar and seed of the first record) and of the MNIST runs."""
    panels = [
        (title, records) for title, records in (("Tomita", tomita), ("sequential MNIST", mnist)) if records
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for axis, (title, records) in zip(axes[0], panels, strict=True):
        if title == "Tomita":
            first = records[0]["config"]
            records = [
                record
                for record in records
                if record["config"]["task"]["grammar"] == first["task"]["grammar"]
                and record["config"]["seed"] == first["seed"]
            ]
            title = f"Tomita grammar {first['task']['grammar']}, seed {first['seed']}"
        for name in COMPARED:
            snapshot = _initial(records, name)
            if snapshot is not None:
                norms = snapshot["state_grad_norms"]
                axis.plot(range(1, len(norms) + 1), norms, label=COMPARED[name])
        axis.set_yscale("log")
        axis.set_xlabel("time step t")
        axis.set_ylabel("||dL/dh_t|| at initialisation")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    records_lib.save_figure(figure, path)
