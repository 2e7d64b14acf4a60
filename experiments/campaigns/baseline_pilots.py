"""Is each model alive before its grid runs? Short pilots on an easy adding problem (issue 39).

Every model of the comparisons (IRNN, LSTM, GRU, tanh RNN, ReLU RNN), each with its own
initialisation (``irnn_jax.config.INIT_BY_CELL``), learns the adding problem at T = 50 for
``STEPS`` steps at each of the comparisons' three learning rates, under the adding comparison's
protocol otherwise (Adam, the rate cosine-decayed over the budget, clip 1 by global norm, batch 16,
100 units). A model is alive when its best pilot by final validation MSE ends below
``ALIVE_FRACTION`` of the baseline MSE (always predicting 1, about 1/6): it has left the baseline.
The comparison campaigns (``adding_baselines.py``, ``mnist_baselines.py``) take a model's grid into
their ``RUNS`` only once its pilots are recorded and it is alive (:func:`alive`), so a dead
baseline, like the LSTMs that sat at the baseline through a whole grid before issue 39, is caught
here in minutes.

Round 2, added after round 1 had run: a model whose best first-round pilot stays above the line
runs that pilot's rate again for ``LONGER`` steps, and is alive if that one ends below the line;
the gate is there to catch a dead model, and a model still descending at the end of a short
pilot is not one.

As it went (session 22, 2026-12-05): in round 1 the LSTM (best 0.0029 at lr 1e-3), the GRU
(0.00057), the ReLU RNN (0.00051) and the IRNN (0.067, lr 1e-3) ended below the line (0.083);
the tanh RNN's best, lr 1e-3, ended at 0.088, its validation MSE falling at the last two
evaluations (0.105, 0.088), so it ran round 2: 20,000 steps at lr 1e-3 ended at 0.0029 (21 s).
Every model is alive. The 16 pilots took 7-35 s each (``wall_s``), the LSTM's and GRU's 27-35 s.

Cost: estimated from the adding campaign's records, where a T=150 run of 15,000 steps took about
430 s for the LSTM and 110-150 s for an RNN; a T=50 pilot of 5,000 steps does a ninth of that
work, about 50 s (LSTM, GRU) and 15 s (RNNs) of training plus its compilation, so about 10 minutes
for the 15 pilots on one core.

Run:  irnn-jax campaign experiments/campaigns/baseline_pilots.py [--shard K/2]
COST_S: the estimate above for an LSTM pilot with compilation, to be replaced by the records'
median ``wall_s``.
"""

import dataclasses
import json
import pathlib
import runpy

HERE = pathlib.Path(__file__).resolve().parent
ADDING = runpy.run_path(str(HERE / "adding.py"))
RESULTS = HERE.parent / "results" / "baseline_pilots"

CELLS = ("irnn", "lstm", "gru", "rnn_tanh", "rnn_relu")
SEQ_LEN, STEPS, LONGER = 50, 5_000, 20_000
ALIVE_FRACTION = 0.5
COST_S = 60

ROUND_1 = [
    ADDING["run"](SEQ_LEN, cell, lr, variants="", steps=STEPS, evaluations=5)
    for cell in CELLS
    for lr in ADDING["LEARNING_RATES"]
]


def _records(runs: list) -> list[dict] | None:
    paths = [RESULTS / f"{run.name}.json" for run in runs]
    if not all(path.is_file() for path in paths):
        return None
    return [json.loads(path.read_text()) for path in paths]


def _best(records: list[dict]) -> dict | None:
    """The record with the lowest final validation MSE (None if every run diverged)."""
    finished = [record for record in records if "diverged" not in record]
    return min(finished, key=lambda record: record["valid"]["mse"]) if finished else None


def _left_baseline(record: dict | None) -> bool:
    return record is not None and record["valid"]["mse"] < ALIVE_FRACTION * record["baseline"]


def round_2(cell: str) -> list:
    """The longer pilot of ``cell`` if its first round is recorded and did not leave the
    baseline: its best rate for ``LONGER`` steps (none otherwise)."""
    records = _records([run for run in ROUND_1 if f"_{cell}_lr" in run.name])
    if records is None or _left_baseline(_best(records)):
        return []
    lr = _best(records)["config"]["optim"]["lr"] if _best(records) else ADDING["LEARNING_RATES"][0]
    run = ADDING["run"](SEQ_LEN, cell, lr, variants="", steps=LONGER, evaluations=5)
    return [dataclasses.replace(run, name=f"{run.name}_{LONGER // 1000}k")]


def alive(cell: str) -> bool | None:
    """Whether ``cell`` left the baseline in its best first-round pilot or in its longer pilot
    (None until those are recorded)."""
    first = _records([run for run in ROUND_1 if f"_{cell}_lr" in run.name])
    if first is None:
        return None
    if _left_baseline(_best(first)):
        return True
    second = _records(round_2(cell))
    return None if second is None else _left_baseline(_best(second))


RUNS = ROUND_1 + [run for cell in CELLS for run in round_2(cell)]
