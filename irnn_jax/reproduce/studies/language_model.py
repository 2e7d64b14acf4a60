"""The language-model section of RESULTS.md (issue 43): our LSTM against a stock PyTorch one
under the same protocol, and the pilots of the paper's language-model table.

- ``lm_peer``: our ``ptb:peer`` runs (a 1 x 128 LSTM under PyTorch's word-level example
  protocol), with the PyTorch model's own result (``benchmarks/lm_peer.py``) kept in
  ``lm_peer/pytorch/``: perplexities after each epoch and training speed.
- ``lm_pilots`` (``experiments/campaigns/lm_pilots.py``): each row's model at three learning
  rates with the state carried, validation perplexity at each evaluation or where it diverged.
- ``lm_table`` (``experiments/campaigns/lm_table.py``): the paper's five rows, each at the
  setting its final validation perplexity chose, test perplexity beside the paper's, and the
  two orderings compared; a figure of validation perplexity against steps, a colour per row.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import statistics
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.records import MODELS, Record, wall

PEER, PILOTS, TABLE = "lm_peer", "lm_pilots", "lm_table"
# Le, Jaitly & Hinton (2015), section 4.3: One Billion Word test perplexity, in the paper's order.
PAPER = {
    "lstm": ("LSTM, 512 units", 68.8),
    "irnn_deep": ("IRNN, 4 layers x 512", 69.4),
    "irnn_wide": ("IRNN, 1 x 1024 + 512 linear projection", 70.2),
    "tanh_deep": ("tanh RNN, 4 x 512", 71.8),
    "tanh_wide": ("tanh RNN, 1 x 1024 + 512 projection", 72.5),
}
GATES = {"lstm": 4, "gru": 3}
PEER_DIR = "pytorch"  # the PyTorch model's results, beside our records


def _perplexity_at(record: Record, split: str, step: int) -> str:
    """The record's ``split`` perplexity at ``step``, as text (empty where it has none)."""
    values = [
        point["perplexity"]
        for point in record.get("curve", [])
        if point["split"] == split and point["step"] == step
    ]
    return f"{values[-1]:.1f}" if values else ""


def _steps_per_s(results_dir: pathlib.Path, record: Record) -> str:
    """The median training steps/s of the run's kept log (``<name>.metrics.jsonl``), as text."""
    path = results_dir / PEER / f"{record['name']}.metrics.jsonl"
    if not path.is_file():
        return ""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    speeds = [line["steps_per_s"] for line in lines if line["split"] == "train" and "steps_per_s" in line]
    return f"{statistics.median(speeds):.1f}" if speeds else ""


def peer_table(results_dir: pathlib.Path, ours: Sequence[Record]) -> list[str]:
    """One row per run: PyTorch's (from ``lm_peer/pytorch``) and ours, perplexities after each of
    the two epochs and the training windows per second."""
    lines = [
        "| model | initialisation | valid / test after epoch 1 | valid / test after epoch 2 | windows/s "
        "| command |",
        "|---|---|---|---|---|---|",
    ]
    for path in sorted((results_dir / PEER / PEER_DIR).glob("*.json")):
        peer = json.loads(path.read_text())
        epochs = [f"{e['valid_perplexity']:.1f} / {e['test_perplexity']:.1f}" for e in peer["epochs"]]
        lines.append(
            f"| PyTorch `nn.LSTM` | the example's | {' | '.join(epochs[:2])} | {peer['windows_per_s']:.1f} "
            f"| `python -m benchmarks.lm_peer --epochs {len(peer['epochs'])}` |"
        )
    for record in ours:
        epoch = record["config"]["train"]["eval_every"]
        cells = [
            f"{_perplexity_at(record, 'valid', step)} / {_perplexity_at(record, 'test', step)}"
            for step in (epoch, 2 * epoch)
        ]
        initialisation = (
            "the peer's (uniform)"
            if record["config"]["model"]["recurrent_init"]["name"] == "uniform"
            else "ours (Keras's)"
        )
        lines.append(
            f"| ours, `{record['config']['model']['cell']}` | {initialisation} | {' | '.join(cells)} "
            f"| {_steps_per_s(results_dir, record)} | `{record['command']}` |"
        )
    return lines


def pilot_name(record: Record) -> str:
    """A pilot's row of the table (``irnn_deep``, ...), from its record's name."""
    return record["name"].split("_lr")[0]


def pilot_table(records: Sequence[Record]) -> list[str]:
    """One row per pilot: its shape, learning rate and identity scale, and its validation
    perplexity at each evaluation from step 0, untrained (or the step it diverged at)."""
    lines = [
        "| row | model | lr | w_hh | input, readout | valid perplexity (step) | wall s | command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in sorted(records, key=lambda r: (pilot_name(r), r["config"]["optim"]["lr"], r["name"])):
        model = record["config"]["model"]
        shape = f"{model['layers']} x {model['hidden_size']}" + (
            f" + {model['projection_size']} projection" if model["projection_size"] else ""
        )
        init = model["recurrent_init"]
        w_hh = init["name"]
        if init["name"] == "scaled_identity":
            w_hh = "I" if init["scale"] == 1 else f"{init['scale']:g} I"
        points = [p for p in record.get("curve", []) if p["split"] == "valid"]  # step 0: untrained
        valid = ", ".join(f"{_shown(p['perplexity'])} ({p['step']})" for p in points)
        if record.get("diverged"):
            valid += f"{'; ' if valid else ''}diverged at step {record['diverged_at']}"
        lines.append(
            f"| {pilot_name(record)} | {MODELS.get(model['cell'], model['cell'])} {shape} "
            f"| {record['config']['optim']['lr']:g} | {w_hh} | {_input_init(model)} | {valid} "
            f"| {wall(record)} | `{record['command']}` |"
        )
    return lines


def _input_init(model: Record) -> str:
    """The input (and readout) initialiser of ``model``'s config section, in short."""
    init = model["input_init"]
    return f"N(0, {init['std']:g}^2)" if init["name"] == "gaussian" else init["name"]


def settings_table(records: Sequence[Record]) -> list[str]:
    """Every setting each row of the table was trained at, with its final perplexities."""
    lines = ["| row | setting | input, readout | valid | test |", "|---|---|---|---|---|"]
    for record in sorted(
        records,
        key=lambda r: (list(PAPER).index(pilot_name(r)), r["config"]["optim"]["lr"], r["name"]),
    ):
        row = pilot_name(record)
        scores = (
            f"diverged at step {record['diverged_at']} |"
            if "diverged" in record
            else f"{record['valid']['perplexity']:.1f} | {record['test']['perplexity']:.1f}"
        )
        setting = record["name"].removeprefix(f"{row}_")
        lines.append(f"| {row} | {setting} | {_input_init(record['config']['model'])} | {scores} |")
    return lines


def parameters(model: Record, vocab: int) -> int:
    """The number of parameters of a language model of ``model``'s config section."""
    hidden, gates = model["hidden_size"], GATES.get(model["cell"], 1)
    count, inputs = vocab * model["embed_size"], model["embed_size"]
    for _ in range(model["layers"]):
        count += (inputs + hidden + 1) * gates * hidden
        inputs = hidden
    if model["projection_size"]:
        count += (hidden + 1) * model["projection_size"]
        inputs = model["projection_size"]
    return count + (inputs + 1) * vocab


def chosen(records: Sequence[Record]) -> dict[str, Record]:
    """Each row's run with the lowest final validation perplexity among those that finished."""
    picked: dict[str, Record] = {}
    for record in records:
        row = pilot_name(record)
        if "diverged" in record or not math.isfinite(record["valid"]["perplexity"]):
            continue
        if row not in picked or record["valid"]["perplexity"] < picked[row]["valid"]["perplexity"]:
            picked[row] = record
    return picked


def table(records: Sequence[Record], vocab: int = 10_000) -> list[str]:
    """The paper's rows in its order: our shape, parameters, chosen setting and perplexities
    beside the paper's test perplexity; then both orderings."""
    picked = chosen(records)
    lines = [
        "| row (paper) | ours | parameters | setting chosen (of) | valid | test | paper test |",
        "|---|---|---|---|---|---|---|",
    ]
    for row, (name, paper) in PAPER.items():
        tried = [record for record in records if pilot_name(record) == row]
        if row not in picked:
            state = "diverged" if tried else "not run yet"
            lines.append(f"| {name} | {state} | | | | | {paper} |")
            continue
        record = picked[row]
        model = record["config"]["model"]
        shape = f"{MODELS.get(model['cell'], model['cell'])} {model['layers']} x {model['hidden_size']}" + (
            f" + {model['projection_size']}" if model["projection_size"] else ""
        )
        setting = record["name"].removeprefix(f"{row}_")
        lines.append(
            f"| {name} | {shape} | {parameters(model, vocab) / 1e6:.2f} M | {setting} ({len(tried)}) "
            f"| {record['valid']['perplexity']:.1f} | {record['test']['perplexity']:.1f} | {paper} |"
        )
    if len(picked) == len(PAPER):
        ours = sorted(picked, key=lambda row: picked[row]["test"]["perplexity"])
        lines += [
            "",
            f"Ordering by test perplexity, the paper's: {' < '.join(PAPER)}; ours: {' < '.join(ours)}.",
        ]
    return lines


def plot_table(records: Sequence[Record], path: pathlib.Path) -> None:
    """Validation perplexity against steps, a colour per row, a line style per setting."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for index, row in enumerate(PAPER):
        runs = sorted((r for r in records if pilot_name(r) == row), key=lambda r: r["name"])
        for style, record in zip(("-", "--", ":"), runs, strict=False):
            points = [p for p in record.get("curve", []) if p["split"] == "valid" and p["step"] > 0]
            axis.plot(
                [p["step"] for p in points],
                [p["perplexity"] for p in points],
                color=f"C{index}",
                linestyle=style,
                marker="o",
                label=record["name"],
            )
    axis.set(xlabel="step", ylabel="valid perplexity", yscale="log", title="Language-model table, PTB")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="x-small")
    records_lib.save_figure(figure, path)


def _shown(perplexity: float) -> str:
    return f"{perplexity:.1f}" if math.isfinite(perplexity) and perplexity < 1e5 else f"{perplexity:.3g}"


def plot_pilots(records: Sequence[Record], path: pathlib.Path) -> None:
    """Validation perplexity against steps, one panel per row of the table, one line per pilot."""
    rows = sorted({pilot_name(r) for r in records})
    figure, axes = plt.subplots(1, len(rows), figsize=(3.4 * len(rows), 3.2), squeeze=False)
    for axis, row in zip(axes[0], rows, strict=True):
        for record in sorted((r for r in records if pilot_name(r) == row), key=lambda r: r["name"]):
            points = [p for p in record.get("curve", []) if p["split"] == "valid"]
            label = record["name"].removeprefix(f"{row}_")
            axis.plot([p["step"] for p in points], [p["perplexity"] for p in points], marker="o", label=label)
        axis.set(title=row, xlabel="step", yscale="log")
        axis.grid(alpha=0.3)
        axis.legend(fontsize="x-small")
    axes[0][0].set_ylabel("valid perplexity")
    figure.suptitle("Language-model pilots: word-level PTB, state carried")
    records_lib.save_figure(figure, path)


def _peer_lines(results_dir: pathlib.Path, ours: Sequence[Record]) -> list[str]:
    """The part of the section that sets our LSTM beside PyTorch's."""
    return [
        "### Our LSTM against a stock PyTorch one, same shape and protocol (issue 43, item 1)",
        "",
        "A 1 x 128 LSTM with an embedding of 128 on word-level PTB, plain SGD at lr 20 clipped to "
        "global norm 0.25, batch 20, windows of 35 words, the state carried (PyTorch's word-level "
        "example at these sizes, no dropout); held-out splits in 10 columns from the zero state. "
        "Windows/s counts training only, each run pinned to one core while another run used the "
        "other (the PyTorch run beside ours with our initialisation).",
        "",
        *peer_table(results_dir, ours),
        "",
        *[f"- {record['name']}: {record['note']}" for record in ours if record.get("note")],
        "",
    ]


def _table_lines(
    rows: Sequence[Record], figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[pathlib.Path, list[str]]:
    """The table's figure, written, and its part of the section."""
    path = figures_dir / "lm_table.png"
    plot_table(rows, path)
    return path, [
        "### The table (`experiments/campaigns/lm_table.py`)",
        "",
        "The paper's shapes with N = 128 where it has 512, word-level PTB (10,000 words: the "
        "embedding and softmax hold most parameters, unlike the paper's), six epochs of 1,327 "
        "windows per row, the state carried, each row at the setting its final validation "
        "perplexity chose; the paper's numbers are One Billion Word's.",
        "",
        *table(rows),
        "",
        f"![language-model table]({os.path.relpath(path, output_dir)})",
        "",
        "Every setting trained (`GRID`; then `ROUND_2`: the rows whose best rate was the top "
        "of their grid one rate higher, and the IRNN rows with Glorot input and readout weights "
        "in place of the paper's N(0, 0.001^2), which the pilots preferred; then `ROUND_3` to "
        "`ROUND_5`: each row's chosen rate bracketed by a lower and a higher one, the rounds going "
        "one rate higher while the top of the grid was chosen; rates by row, lowest first):",
        "",
        *settings_table(rows),
        "",
    ]


def section(
    results_dir: pathlib.Path, figures_dir: pathlib.Path, output_dir: pathlib.Path
) -> tuple[str, list[pathlib.Path]]:
    """The markdown of the section and its figures (empty if none of its campaigns has run).

    Args:
      results_dir: the results directory, one subdirectory per campaign.
      figures_dir: where the figures go.
      output_dir: the directory of the markdown file (figure links are relative to it).

    Returns:
      ``(markdown, figures written)``.
    """
    ours, pilots = records_lib.load(results_dir, PEER), records_lib.load(results_dir, PILOTS)
    rows = records_lib.load(results_dir, TABLE)
    if not (ours or pilots or rows):
        return "", []
    lines: list[Any] = [
        "## Language models: the paper's table at PTB scale (Le, Jaitly & Hinton 2015, section 4.3)",
        "",
    ]
    figures = []
    if rows:
        path, table_lines = _table_lines(rows, figures_dir, output_dir)
        figures.append(path)
        lines += table_lines
    if ours:
        lines += _peer_lines(results_dir, ours)
    if pilots:
        path = figures_dir / "lm_pilots.png"
        plot_pilots(pilots, path)
        figures.append(path)
        lines += [
            "### Pilots of the table's rows (`experiments/campaigns/lm_pilots.py`)",
            "",
            *pilot_table(pilots),
            "",
            f"![language-model pilots]({os.path.relpath(path, output_dir)})",
            "",
        ]
    return "\n".join(lines), figures
