"""The claims of Dou & Principe (2023) one by one, each with what our runs show (issue 44, item 4).

From the records of the initialiser comparisons (``eigen_tomita``, ``eigen_tomita_hard``,
``eigen_mnist``, ``eigen_gated_tomita``, ``eigen_gated_mnist``, ``eigen_translation``) and the
eigenvalue analysis (:mod:`irnn_jax.reproduce.studies.eigen_spectra`). A comparison is one campaign and one
cell; its score per initialiser is the mean final test metric over all its runs (accuracy over
every grammar and seed for Tomita; BLEU for translation), a diverged run counting as chance
(accuracy 0.5 on Tomita's two classes, 0.1 on MNIST's ten; BLEU 0).
"""

from __future__ import annotations

import pathlib
import statistics
from collections.abc import Sequence
from typing import NamedTuple

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.records import Record
from irnn_jax.reproduce.studies import eigen_spectra, init_comparison, translation

# campaign: (task as the claims name it, metric, a diverged run's score)
COMPARISONS = {
    "eigen_tomita": ("Tomita (easy protocol)", "accuracy", 0.5),
    "eigen_tomita_hard": ("Tomita (separating protocol)", "accuracy", 0.5),
    "eigen_mnist": ("sequential MNIST", "accuracy", 0.1),
    "eigen_gated_tomita": ("Tomita (separating protocol)", "accuracy", 0.5),
    "eigen_gated_mnist": ("sequential MNIST", "accuracy", 0.1),
    "eigen_translation": ("translation", "bleu", 0.0),
}
NAMES = {**init_comparison.COMPARED, **init_comparison.GATED, "eigen": "eigen"}
# The initialisers the paper says eigen outperforms (np-RNN stands in for its sp-RNN).
RIVALS = ("glorot_normal", "he_normal", "identity", "np_rnn")

Standing = list[tuple[str, float]]  # (initialiser, score), best first
Key = tuple[str, str]  # a comparison: (task, model)


class Noise(NamedTuple):
    """How far a score moves without a change of initialiser, in the score's own units."""

    size: float
    what: str  # e.g. "one run's late wobble"


def _model(cell: str) -> str:
    """A comparison's model: the ReLU RNN whatever its initialiser, else the cell's name."""
    return "ReLU RNN" if cell in ("irnn", "rnn_relu") else records_lib.MODELS.get(cell, cell)


def _noise(results_dir: pathlib.Path, campaign: str, runs: Sequence[Record]) -> Noise | None:
    """The noise a one-seed comparison's gaps are set against: for accuracy, the largest late fall
    of any of its ``runs`` (:func:`irnn_jax.reproduce.studies.init_comparison.late_falls`); for translation,
    the spread of test BLEU over the seeds ``translation_seeds`` repeats of the same cell. None
    where it is not measured."""
    if campaign == translation.CAMPAIGN:
        cell = runs[0]["config"]["model"]["cell"]
        seeds = [
            r
            for r in records_lib.load(results_dir, translation.SEEDS)
            if r["config"]["model"]["cell"] == cell
        ]
        bleus = [record["test"]["bleu"] for record in translation.repeated(runs, seeds)]
        return (
            Noise(max(bleus) - min(bleus), f"the spread over {len(bleus)} seeds") if len(bleus) > 1 else None
        )
    falls = init_comparison.late_falls(runs)
    return Noise(max(falls), "one run's late wobble") if falls else None


def standings(
    results_dir: pathlib.Path,
) -> tuple[dict[Key, Standing], dict[Key, int], dict[Key, Noise | None]]:
    """Per comparison ``(task, model)``, the initialisers by score, best first, its number of runs
    (only comparisons that ran eigen and a rival, every initialiser as many times), and, where each
    initialiser ran once, the noise its gaps are set against (:func:`_noise`; None where not
    measured)."""
    found, runs, noises = {}, {}, {}
    for campaign, (task, metric, chance) in COMPARISONS.items():
        records = records_lib.load(results_dir, campaign)
        for cell in sorted({record["config"]["model"].get("cell", "irnn") for record in records}):
            scores: dict[str, list[float]] = {}
            mine = [record for record in records if record["config"]["model"].get("cell", "irnn") == cell]
            for record in mine:
                value = chance if "diverged" in record else record["test"][metric]
                scores.setdefault(init_comparison.init_name(record), []).append(value)
            # a comparison counts once eigen and a rival ran, each initialiser as often (a campaign
            # still running is left out until its initialisers are level)
            if "eigen" in scores and len(scores) > 1 and len({len(v) for v in scores.values()}) == 1:
                ranked = sorted(
                    ((init, statistics.fmean(v)) for init, v in scores.items()), key=lambda p: -p[1]
                )
                found[(task, _model(cell))] = ranked
                runs[(task, _model(cell))] = sum(map(len, scores.values()))
                if all(len(v) == 1 for v in scores.values()):
                    noises[(task, _model(cell))] = _noise(results_dir, campaign, mine)
    return found, runs, noises


def _rounded(score: float, task: str) -> float:
    """A score as the claims show it: BLEU to 2 decimals, accuracy in % to 1."""
    return round(score, 2) if task == "translation" else round(100 * score, 1)


def _difference(score: float, other: float, task: str) -> float:
    """``score - other`` as shown (:func:`_rounded` both, and the difference to as many decimals)."""
    return round(_rounded(score, task) - _rounded(other, task), 2 if task == "translation" else 1)


def _score(init: str, score: float, task: str) -> str:
    shown = f"{score:.2f} BLEU" if task == "translation" else f"{_rounded(score, task):.1f}%"
    return f"{NAMES.get(init, init)} {shown}"


def _amount(difference: float, task: str) -> str:
    """A difference of shown scores as text: BLEU, or accuracy points."""
    return f"{difference:.2f} BLEU" if task == "translation" else f"{difference:.1f} points"


def _rank(standing: Standing, task: str) -> int:
    """Eigen's rank: 1 + the initialisers scoring higher as shown (ties as shown share a rank)."""
    eigen = _rounded(dict(standing)["eigen"], task)
    return 1 + sum(_rounded(score, task) > eigen for _, score in standing)


def _gap(standing: Standing, task: str, noise: Noise | None) -> str:
    """Eigen's gap to the best other initialiser set against the comparison's ``noise``."""
    if noise is None:
        return "; how far a score moves without a change of initialiser is not measured"
    eigen = dict(standing)["eigen"]
    other = next(score for init, score in standing if init != "eigen")
    gap = abs(_difference(eigen, other, task))
    side = "within" if gap <= _rounded(noise.size, task) else "beyond"
    return (
        f"; a gap of {_amount(gap, task)} to the {'runner-up' if eigen >= other else 'best'}, {side} "
        f"{noise.what} of {_amount(_rounded(noise.size, task), task)}"
    )


def _beaten(standing: Standing, task: str, noise: Noise | None) -> tuple[list[str], int]:
    """The rivals (:data:`RIVALS`) eigen outscores as shown, each marked when the gap is within
    the comparison's ``noise``, and how many rivals ran."""
    scores = dict(standing)
    present = [init for init in RIVALS if init in scores]
    beaten = []
    for init in present:
        gap = _difference(scores["eigen"], scores[init], task)
        if gap > 0:
            within = noise is not None and gap <= _rounded(noise.size, task)
            beaten.append(NAMES[init] + (f" (within {noise.what})" if within else ""))
    return beaten, len(present)


def claims(
    found: dict[Key, Standing],
    runs: dict[Key, int],
    noises: dict[Key, Noise | None],
    spectra: Sequence[str],
) -> list[str]:
    """The claims, each followed by what ``found`` (with each comparison's number of ``runs`` and,
    for one-seed comparisons, its ``noises``) and the eigenvalue ``spectra`` lines show."""
    ranks = {key: _rank(standing, key[0]) for key, standing in found.items()}
    cells = sorted({model for _, model in found})
    best_in = sum(rank == 1 for rank in ranks.values())
    lines = [
        '1. "Can be applied to vanilla-RNN, LSTM, and GRU": eigen was trained with '
        + (", ".join(cells) if cells else "no cell yet")
        + " (a gated cell gets an eigen-spectrum block per gate).",
        f'2. "Improves performance consistently": eigen is the best initialiser (ties as shown '
        f"included) in {best_in} of {len(ranks)} comparisons:",
    ]
    for (task, model), standing in found.items():
        best = standing[0]
        eigen = dict(standing)["eigen"]
        lines.append(
            f"   - {task}, {model} ({runs[(task, model)]} runs): eigen ranks {ranks[(task, model)]} of "
            f"{len(standing)} "
            f"({_score('eigen', eigen, task)}; best {_score(*best, task)}"
            f"{_gap(standing, task, noises[(task, model)]) if (task, model) in noises else ''})"
        )
    lines.append('3. "Outperforms Xavier, Kaiming, IRNN and sp-RNN in several tasks" (np-RNN for sp-RNN):')
    for (task, model), standing in found.items():
        beaten, present = _beaten(standing, task, noises.get((task, model)))
        lines.append(
            f"   - {task}, {model}: beats {len(beaten)} of {present} ({', '.join(beaten) or 'none'})"
        )
    lines.append(
        '4. "Eigenvalues behave differently on regression than on classification tasks" (mean change '
        "from initial to trained w_hh per task, section on eigenvalues):"
    )
    lines += [f"   {line}" for line in spectra] or ["   - spectra of both kinds of task not recorded yet"]
    return lines


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list]:
    """The markdown of the section (empty if no comparison ran eigen).

    Args:
      results_dir: the results directory, one subdirectory per campaign.
      figures_dir: unused (the section has no figure).
      output_dir: unused.

    Returns:
      ``(markdown, [])``.
    """
    found, runs, noises = standings(results_dir)
    if not found:
        return "", []
    lines = [
        "## The eigen initialiser's claims against our runs (Dou & Principe 2023)",
        "",
        "Each claim of the paper's abstract, then what the comparisons above show. A comparison is a "
        "campaign and a cell; an initialiser's score is its mean final test accuracy (BLEU for "
        "translation) over all its runs, a diverged run counting as chance; a comparison still "
        "running counts once each of its initialisers has run as often as the others. No "
        "comparison tunes a learning rate per initialiser: each runs its section's one protocol for "
        "all of them. The ReLU RNN's sequential MNIST protocol is the one the IRNN's pilots chose "
        "(`experiments/campaigns/mnist_pilots.py`), so it may favour the identity. Where each "
        "initialiser ran once, a gap is set against how far a score moves without a change of "
        "initialiser, where measured: for accuracy, one run's late wobble (the largest fall of any of "
        "its runs' test accuracy between consecutive held-out passes in the second half of "
        "training); for "
        "translation, the spread of test BLEU over seeds of one setting of the same cell. A gap "
        "within it is marked: on its own, it does not rank two initialisers.",
        "",
        *claims(found, runs, noises, eigen_spectra.separation(eigen_spectra.collect(results_dir))),
        "",
    ]
    return "\n".join(lines), []
