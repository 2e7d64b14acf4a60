"""The eigenvalue analysis of Dou & Principe (2023) (issue 44, item 3): the spectrum of w_hh at
initialisation and after training, on a regression task (the adding problem) and on
classification tasks (pixel MNIST, the Tomita grammars), for the IRNN's identity and the eigen
initialiser.

From the diagnostics that the runs of ``eigen_adding``, ``eigen_mnist`` and ``eigen_tomita`` log at
their first and last step (``eigenvalues_real``, ``eigenvalues_imag``): per task and initialiser,
the spectral radius, the mean magnitude and the mean absolute phase of the eigenvalues before and
after training (means over the runs), and a figure of the eigenvalues in the complex plane,
initial in grey and trained in colour, with the unit circle.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.records import Record

# campaign: (task as the section names it, its kind)
TASKS = {
    "eigen_adding": ("adding problem, T = 100", "regression"),
    "eigen_mnist": ("sequential pixel MNIST", "classification"),
    "eigen_tomita": ("Tomita grammars 1-7", "classification"),
}
INITS = {"identity": "IRNN (I)", "eigen": "eigen"}


def spectra(record: Record) -> tuple[np.ndarray, np.ndarray] | None:
    """The complex eigenvalues of a run's w_hh at its first and last diagnostics snapshot (None
    without two snapshots: a run that logged none, or diverged before its last)."""
    snapshots = record.get("diagnostics") or []
    if len(snapshots) < 2 or "diverged" in record:
        return None
    first, last = snapshots[0], snapshots[-1]
    return tuple(  # type: ignore[return-value]
        np.asarray(s["eigenvalues_real"]) + 1j * np.asarray(s["eigenvalues_imag"]) for s in (first, last)
    )


def summary(eigenvalues: np.ndarray) -> tuple[float, float, float]:
    """``(spectral radius, mean magnitude, mean absolute phase in radians)`` of a spectrum."""
    magnitudes = np.abs(eigenvalues)
    return float(magnitudes.max()), float(magnitudes.mean()), float(np.abs(np.angle(eigenvalues)).mean())


def collect(results_dir: pathlib.Path) -> dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]]:
    """Each (campaign, initialiser)'s runs' initial and trained spectra."""
    found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    for campaign in TASKS:
        for record in records_lib.load(results_dir, campaign):
            init = record["config"]["model"]["recurrent_init"]["name"]
            pair = spectra(record) if init in INITS else None
            if pair is not None:
                found.setdefault((campaign, init), []).append(pair)
    return found


def table(found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]]) -> list[str]:
    """A row per task and initialiser: each summary number before -> after training."""
    lines = [
        "| task | kind | initialiser | runs | spectral radius | mean magnitude | mean absolute phase (rad) |",
        "|---|---|---|---|---|---|---|",
    ]
    for campaign, init in ((c, i) for c in TASKS for i in INITS if (c, i) in found):
        pairs = found[(campaign, init)]
        before = np.mean([summary(first) for first, _ in pairs], axis=0)
        after = np.mean([summary(last) for _, last in pairs], axis=0)
        cells = " | ".join(f"{b:.3f} -> {a:.3f}" for b, a in zip(before, after, strict=True))
        name, kind = TASKS[campaign]
        lines.append(f"| {name} | {kind} | {INITS[init]} | {len(pairs)} | {cells} |")
    return lines


def reading(found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]]) -> list[str]:
    """What moved, by task kind: the mean change of the mean magnitude and of the mean absolute
    phase over the runs of each kind and initialiser (computed, not typed in)."""
    lines = []
    for init, name in INITS.items():
        for kind in ("regression", "classification"):
            by_task = task_changes(found, init, kind)
            if not by_task:
                continue
            changes = np.concatenate(list(by_task.values()))
            magnitude, phase = changes[:, 1].mean(), changes[:, 2].mean()
            lines.append(
                f"- {name}, {kind} ({len(changes)} runs): mean magnitude {magnitude:+.3f}, "
                f"mean absolute phase {phase:+.3f} rad"
            )
    return lines


QUANTITIES = ("spectral radius", "mean magnitude", "mean absolute phase (rad)")


def task_changes(
    found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]], init: str, kind: str
) -> dict[str, np.ndarray]:
    """Per task of ``kind``, each of ``init``'s runs' change of each of :data:`QUANTITIES` from
    initial to trained (``[runs, 3]``)."""
    return {
        TASKS[campaign][0]: np.array([np.subtract(summary(last), summary(first)) for first, last in pairs])
        for (campaign, run_init), pairs in found.items()
        if run_init == init and TASKS[campaign][1] == kind
    }


def _changes(changes: np.ndarray, task: str) -> str:
    """A task's mean change of one quantity, with its runs' range when it has several runs."""
    spread = f", {changes.min():+.3f} to {changes.max():+.3f}" if len(changes) > 1 else ""
    runs = f"{len(changes)} run" + ("s" if len(changes) > 1 else "")
    return f"{changes.mean():+.3f} ({task}, {runs}{spread})"


def separation(found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]]) -> list[str]:
    """Whether the kind of task separates what moves: per initialiser and quantity, each task's mean
    change over its runs, and whether every classification run's change lies on one side of every
    regression run's (the kind separates them) or the two kinds' runs overlap (it does not)."""
    lines = []
    for init, name in INITS.items():
        regression, classification = (
            task_changes(found, init, kind) for kind in ("regression", "classification")
        )
        if not regression or not classification:
            continue
        for index, quantity in enumerate(QUANTITIES):
            reg = np.concatenate([changes[:, index] for changes in regression.values()])
            cls = np.concatenate([changes[:, index] for changes in classification.values()])
            if reg.max() < cls.min() or reg.min() > cls.max():
                side = "above" if reg.max() < cls.min() else "below"
                verdict = f"every classification run's change lies {side} every regression run's"
            else:
                verdict = "the two kinds' runs overlap, so the kind of task does not separate them"
            listed = "; ".join(
                f"{kind} " + ", ".join(_changes(changes[:, index], task) for task, changes in by_task.items())
                for kind, by_task in (("regression", regression), ("classification", classification))
            )
            lines.append(f"- {name}, {quantity}: {listed}: {verdict}.")
    return lines


def plot(found: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]], path: pathlib.Path) -> None:
    """The eigenvalues in the complex plane: a row per task, a column per initialiser; initial
    black crosses over the trained in colour, the unit circle dashed."""
    campaigns = [campaign for campaign in TASKS if any(key[0] == campaign for key in found)]
    figure, axes = plt.subplots(
        len(campaigns), len(INITS), figsize=(4 * len(INITS), 4 * len(campaigns)), squeeze=False
    )
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    for row, campaign in enumerate(campaigns):
        for column, (init, name) in enumerate(INITS.items()):
            axis = axes[row][column]
            axis.plot(circle.real, circle.imag, color="black", linestyle="--", linewidth=0.8)
            for index, (first, last) in enumerate(found.get((campaign, init), [])):
                label = ("initial", "trained") if index == 0 else (None, None)
                axis.scatter(last.real, last.imag, s=6, color=f"C{column}", label=label[1])
                axis.scatter(
                    first.real, first.imag, s=10, marker="x", color="black", label=label[0], zorder=3
                )
            axis.set(title=f"{TASKS[campaign][0]}: {name}", xlabel="Re", ylabel="Im", aspect="equal")
            axis.grid(alpha=0.3)
            axis.legend(fontsize="small", loc="lower left")
    figure.suptitle("Eigenvalues of w_hh before and after training")
    records_lib.save_figure(figure, path)


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list[pathlib.Path]]:
    """The markdown of the section and its figure (empty if no run logged two spectra).

    Args:
      results_dir: the results directory, one subdirectory per campaign.
      figures_dir: where the figure goes.
      output_dir: the directory of the markdown file (figure links are relative to it).

    Returns:
      ``(markdown, figures written)``.
    """
    found = collect(results_dir)
    if not found:
        return "", []
    path = figures_dir / "eigen_spectra.png"
    plot(found, path)
    separated = separation(found)
    by_task = [
        "By task, and whether the kind of task separates the change (the tasks differ in length, width "
        "and budget too, so a separation would not be the kind's alone):",
        "",
        *separated,
        "",
    ]
    lines: Sequence[str] = [
        "## Eigenvalues of w_hh before and after training (Dou & Principe 2023)",
        "",
        "The spectrum of each run's w_hh at initialisation and at its last step, from the "
        "diagnostics of `experiments/campaigns/eigen_adding.py`, `eigen_mnist.py` and "
        "`eigen_tomita.py`; means over the runs that finished.",
        "",
        *table(found),
        "",
        "Change from initial to trained, by kind of task:",
        "",
        *reading(found),
        "",
        *(by_task if separated else []),
        f"![eigenvalues before and after training]({os.path.relpath(path, output_dir)})",
        "",
    ]
    return "\n".join(lines), [path]
