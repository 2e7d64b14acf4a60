"""The translation section of RESULTS.md: the initialiser comparison of Dou & Principe (2023) on
Spanish-to-English verses (issue 45, item 3).

From the records of ``experiments/campaigns/translation_pilots.py`` (one run per cell, its cost
and whether it learns) and ``eigen_translation.py`` (GRU and LSTM encoder-decoders with each
recurrent initialiser, and the IRNN): a table of final validation and test BLEU and test
perplexity, the copy-the-source baseline beside them, the spread of one setting's test BLEU over
seeds (``translation_seeds.py``), a figure of validation BLEU against steps
(a panel per cell, a colour per initialiser), and the test verses of the best run by validation
BLEU with their references and translations.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import matplotlib.pyplot as plt

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.records import Record
from irnn_jax.reproduce.studies import init_comparison

CAMPAIGN, PILOTS, SEEDS = "eigen_translation", "translation_pilots", "translation_seeds"
# The recurrent initialisers compared, as the table names them, in its order: the gated cells'
# comparison's, and the IRNN's identity.
INITS = {**init_comparison.GATED, "identity": "identity"}


def describe(record: Record) -> tuple[str, str]:
    """``(model, initialiser)`` of a run, as the tables name them."""
    model = record["config"]["model"]
    init = model["recurrent_init"]["name"]
    return records_lib.MODELS.get(model["cell"], model["cell"]), INITS.get(init, init)


def _order(record: Record) -> tuple[int, int]:
    model = record["config"]["model"]
    cells, inits = list(records_lib.MODELS), list(INITS)
    init = model["recurrent_init"]["name"]
    return (
        cells.index(model["cell"]) if model["cell"] in cells else len(cells),
        inits.index(init) if init in inits else len(inits),
    )


def _scores(record: Record) -> str:
    """``valid BLEU | test BLEU | test perplexity``, or where the run diverged."""
    if "diverged" in record:
        return f"diverged at step {record.get('diverged_at', '?')} | | "
    valid, test = record["valid"], record["test"]
    return f"{valid['bleu']:.2f} | {test['bleu']:.2f} | {test['perplexity']:.1f}"


def table(records: Sequence[Record]) -> list[str]:
    """A row per run: model, initialiser, steps, final BLEU (valid, test), test perplexity, wall
    seconds and command, in the order of the cells and :data:`INITS`."""
    lines = [
        "| model | w_hh init | steps | valid BLEU | test BLEU | test perplexity | wall (s) | command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in sorted(records, key=_order):
        model, init = describe(record)
        lines.append(
            f"| {model} | {init} | {record['steps']} | {_scores(record)} | {records_lib.wall(record)} "
            f"| `{record['command']}` |"
        )
    return lines


def reading(records: Sequence[Record]) -> list[str]:
    """Per cell, in table order: the range of final test BLEU over its initialisers, and the run
    that validation BLEU would pick against the best on test."""
    lines = []
    for cell in dict.fromkeys(record["config"]["model"]["cell"] for record in sorted(records, key=_order)):
        runs = [record for record in records if record["config"]["model"]["cell"] == cell]
        finished = sorted((r for r in runs if "diverged" not in r), key=lambda r: r["test"]["bleu"])
        diverged = f"; {len(runs) - len(finished)} diverged" if len(finished) < len(runs) else ""
        if not finished:
            continue
        low, high = finished[0], finished[-1]
        line = f"- {records_lib.MODELS.get(cell, cell)}: test BLEU "
        if low is high:
            lines.append(f"{line}{high['test']['bleu']:.2f} ({describe(high)[1]}){diverged}.")
            continue
        picked = max(finished, key=lambda record: record["valid"]["bleu"])
        lines.append(
            f"{line}from {low['test']['bleu']:.2f} ({describe(low)[1]}) to {high['test']['bleu']:.2f} "
            f"({describe(high)[1]}), a spread of {high['test']['bleu'] - low['test']['bleu']:.2f}; "
            "the best by validation BLEU: "
            + (
                "the same run"
                if picked is high
                else f"{describe(picked)[1]} ({picked['test']['bleu']:.2f} on test)"
            )
            + f"{diverged}."
        )
    return lines


def repeated(runs: Sequence[Record], seeds: Sequence[Record]) -> list[Record]:
    """The finished runs of the setting (cell and initialiser) that ``seeds`` repeats, from
    ``runs`` and ``seeds`` together, by seed (none without ``seeds``)."""
    if not seeds:
        return []
    setting = describe(seeds[0])
    return sorted(
        (record for record in (*runs, *seeds) if describe(record) == setting and "diverged" not in record),
        key=lambda record: record["config"]["seed"],
    )


def seed_spread(runs: Sequence[Record], seeds: Sequence[Record]) -> str:
    """What a change of seed does to test BLEU: for each setting (cell and initialiser) that
    ``seeds`` repeats, its finished runs by seed, the comparison's ``runs`` included (a setting
    with one is left out), or that it is not measured."""
    parts = []
    for setting in dict.fromkeys(map(describe, seeds)):
        same = repeated(runs, [record for record in seeds if describe(record) == setting])
        scores = [record["test"]["bleu"] for record in same]
        if len(scores) < 2:
            continue
        parts.append(
            f"{setting[0]} with {setting[1]}: test BLEU {', '.join(f'{score:.2f}' for score in scores)} "
            f"at seeds {', '.join(str(record['config']['seed']) for record in same)}, a spread of "
            f"{max(scores) - min(scores):.2f}"
        )
    if not parts:
        return (
            "One seed per run: how far BLEU moves from seed to seed is not measured here, so a "
            "difference smaller than that would not rank two initialisers."
        )
    return (
        f"From seed to seed (`experiments/campaigns/{SEEDS}.py`), {'; '.join(parts)}; a difference "
        "between initialisers smaller than that does not rank them."
    )


def examples(records: Sequence[Record]) -> list[str]:
    """The test verses of the finished run with the highest final validation BLEU: source,
    reference and translation (none if no run kept examples)."""
    finished = [record for record in records if "diverged" not in record and record.get("examples")]
    if not finished:
        return []
    best = max(finished, key=lambda record: record["valid"]["bleu"])
    model, init = describe(best)
    lines = [
        f"Test verses translated by the run with the highest validation BLEU ({model}, {init}; "
        f"`{best['name']}`):",
        "",
        "| source (Spanish) | reference (English) | translation |",
        "|---|---|---|",
    ]
    for example in best["examples"]:
        # a table cell: its pipes escaped, and "<unk>" shown, not read as an HTML tag
        cells = (
            example[field].replace("|", "\\|").replace("<", "&lt;")
            for field in ("source", "reference", "translation")
        )
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def plot(records: Sequence[Record], path: pathlib.Path) -> None:
    """Validation BLEU against steps: a panel per cell, a colour per initialiser."""
    cells = sorted(
        {record["config"]["model"]["cell"] for record in records}, key=list(records_lib.MODELS).index
    )
    figure, axes = plt.subplots(1, len(cells), figsize=(5 * len(cells), 4), squeeze=False)
    colours = {name: f"C{index}" for index, name in enumerate(INITS.values())}
    for axis, cell in zip(axes[0], cells, strict=True):
        for record in sorted(records, key=_order):
            if record["config"]["model"]["cell"] != cell:
                continue
            points = [point for point in record.get("curve", []) if point["split"] == "valid"]
            _, init = describe(record)
            axis.plot(
                [p["step"] for p in points],
                [p["bleu"] for p in points],
                color=colours.get(init),
                label=init,
                marker="o",
            )
        axis.set(title=records_lib.MODELS.get(cell, cell), xlabel="step", ylabel="validation BLEU")
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle("Spanish to English verses: greedy-translation BLEU by recurrent initialiser")
    records_lib.save_figure(figure, path)


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list[pathlib.Path]]:
    """The markdown of the section and its figure (empty if neither campaign has run).

    Args:
      results_dir: the results directory, one subdirectory per campaign.
      figures_dir: where the figure goes.
      output_dir: the directory of the markdown file (figure links are relative to it).

    Returns:
      ``(markdown, figures written)``.
    """
    pilots, runs = records_lib.load(results_dir, PILOTS), records_lib.load(results_dir, CAMPAIGN)
    if not pilots and not runs:
        return "", []
    baseline = (runs or pilots)[0]["baseline"]
    lines = [
        "## Translation: recurrent initialisers on Spanish-to-English verses (Dou & Principe 2023)",
        "",
        "Encoder-decoders of our recurrent cells on `bible_es_en` (two public-domain Bibles from "
        "Debian packages, aligned verse by verse; Acts held out for validation, John for test; the "
        "paper used Multi30k, which installs from no package here), the `translation` config: 256 "
        "units a side, 4,000-word vocabularies, pairs of at most 40 tokens a side, Adam 1e-3, batch 64. "
        "BLEU: sacrebleu's corpus BLEU, case-insensitive, of greedy translations against the "
        f"reference verses; copying the Spanish verse unchanged scores {baseline:.2f} on test.",
        "",
    ]
    if pilots:
        lines += [
            "Pilots (`experiments/campaigns/translation_pilots.py`), each cell at its own initialisation:",
            "",
        ]
        lines += [*table(pilots), ""]
    figures = []
    if runs:
        lines += ["The comparison (`experiments/campaigns/eigen_translation.py`), one seed per run:", ""]
        seeds = records_lib.load(results_dir, SEEDS)
        lines += [*table(runs), "", *reading(runs), "", seed_spread(runs, seeds), ""]
        path = figures_dir / "translation_bleu.png"
        plot(runs, path)
        figures.append(path)
        lines += [f"![translation BLEU]({os.path.relpath(path, output_dir)})", ""]
    lines += [*examples(runs or pilots), ""]
    return "\n".join(lines), figures
