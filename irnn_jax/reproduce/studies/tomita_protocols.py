"""The RESULTS.md section of the Tomita protocol pilot (issue 44, item 1): which protocol spreads
the recurrent initialisers apart.

From the records of ``experiments/campaigns/tomita_protocols.py`` (record names
``<protocol>_tomita<grammar>_<initialiser>``): per protocol and grammar, the spread of the
initialisers' test accuracy (best minus worst, in points), and per protocol the number of grammars
where that spread reaches ``SEPARATES`` points. The protocol with the most such grammars is the
one the gated-cell comparison uses (ties: the cheaper, by total wall seconds).
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.records import Record

CAMPAIGN = "tomita_protocols"
SEPARATES = 10.0  # points of test accuracy between the best and the worst initialiser


def protocol(record: Record) -> str:
    """A pilot's protocol, from its record's name."""
    return record["name"].split("_tomita")[0]


def spreads(records: Sequence[Record]) -> dict[str, dict[int, float]]:
    """``{protocol: {grammar: best minus worst test accuracy, in points}}``; a diverged run counts
    as chance (50%)."""
    accuracies: dict[str, dict[int, list[float]]] = {}
    for record in records:
        grammar = record["config"]["task"]["grammar"]
        value = 0.5 if "diverged" in record else record["test"]["accuracy"]
        accuracies.setdefault(protocol(record), {}).setdefault(grammar, []).append(100 * value)
    return {
        name: {grammar: max(values) - min(values) for grammar, values in sorted(by_grammar.items())}
        for name, by_grammar in accuracies.items()
    }


def chosen(records: Sequence[Record]) -> str | None:
    """The protocol that separates the initialisers on the most grammars (ties: the cheapest)."""
    found = spreads(records)
    if not found:
        return None

    def cost(name: str) -> float:
        return sum(records_lib.seconds(record) for record in records if protocol(record) == name)

    return max(found, key=lambda name: (sum(s >= SEPARATES for s in found[name].values()), -cost(name)))


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list]:
    """The markdown of the section (empty if the pilot has not run).

    Args:
      results_dir: the results directory, one subdirectory per campaign.
      figures_dir: unused (the section has no figure).
      output_dir: unused.

    Returns:
      ``(markdown, [])``.
    """
    records = records_lib.load(results_dir, CAMPAIGN)
    if not records:
        return "", []
    found = spreads(records)
    grammars = sorted({grammar for by_grammar in found.values() for grammar in by_grammar})
    lines = [
        "## Which Tomita protocol separates the initialisers (`experiments/campaigns/tomita_protocols.py`)",
        "",
        "Best minus worst initialiser's test accuracy (points), seed 0, per grammar; a diverged run "
        f"counts as chance. Grammars where the spread reaches {SEPARATES:g} points are counted.",
        "",
        "| protocol | " + " | ".join(f"grammar {g}" for g in grammars) + " | grammars separated |",
        "|---|" + "---|" * (len(grammars) + 1),
    ]
    for name, by_grammar in found.items():
        cells = " | ".join(f"{by_grammar[g]:.1f}" if g in by_grammar else "" for g in grammars)
        lines.append(f"| {name} | {cells} | {sum(s >= SEPARATES for s in by_grammar.values())} |")
    lines += ["", f"Chosen: **{chosen(records)}**.", ""]
    return "\n".join(lines), []
