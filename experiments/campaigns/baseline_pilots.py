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

Cost: estimated from the adding campaign's records, where a T=150 run of 15,000 steps took about
430 s for the LSTM and 110-150 s for an RNN; a T=50 pilot of 5,000 steps does a ninth of that
work, about 50 s (LSTM, GRU) and 15 s (RNNs) of training plus its compilation, so about 10 minutes
for the 15 pilots on one core.

Run:  irnn-jax campaign experiments/campaigns/baseline_pilots.py [--shard K/2]
COST_S: the estimate above for an LSTM pilot with compilation, to be replaced by the records'
median ``wall_s``.
"""

import json
import pathlib
import runpy

HERE = pathlib.Path(__file__).resolve().parent
ADDING = runpy.run_path(str(HERE / "adding.py"))
RESULTS = HERE.parent / "results" / "baseline_pilots"

CELLS = ("irnn", "lstm", "gru", "rnn_tanh", "rnn_relu")
SEQ_LEN, STEPS = 50, 5_000
ALIVE_FRACTION = 0.5
COST_S = 60

RUNS = [
    ADDING["run"](SEQ_LEN, cell, lr, variants="", steps=STEPS, evaluations=5)
    for cell in CELLS
    for lr in ADDING["LEARNING_RATES"]
]


def alive(cell: str) -> bool | None:
    """Whether ``cell`` left the baseline in its best pilot (None until all its pilots have
    records; a diverged pilot counts as the worst)."""
    paths = [RESULTS / f"{run.name}.json" for run in RUNS if f"_{cell}_lr" in run.name]
    if not all(path.is_file() for path in paths):
        return None
    records = [json.loads(path.read_text()) for path in paths]
    finished = [record for record in records if "diverged" not in record]
    if not finished:
        return False
    best = min(finished, key=lambda record: record["valid"]["mse"])
    return best["valid"]["mse"] < ALIVE_FRACTION * best["baseline"]
