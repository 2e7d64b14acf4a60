"""The adding problem's baselines again, each with its own initialisation (issue 39).

The comparison of ``adding.py`` started every model from the IRNN's N(0, 0.001^2) input and
readout weights, which kept its LSTM and tanh RNN at the baseline MSE at every length, and let
the ReLU RNN's random-walk recurrent matrix overflow at T=400. Here the LSTM, the GRU, the tanh
RNN and the ReLU RNN run again with their own initialisation (``irnn_jax.config.INIT_BY_CELL``:
Keras's defaults for the LSTM, GRU and tanh RNN, a Gaussian N(0, 1.3^2/N) recurrent matrix for the
ReLU RNN), under ``adding.py``'s protocol and budget (Adam, cosine decay over ``STEPS[T]``,
clip 1, batch 16, ten evaluations) and its rule for the learning rate (the three of
``LEARNING_RATES``, the lowest final validation MSE of seed 0). The IRNN's rows stay those of
``adding.py``, whose initialisation is unchanged; its old baseline rows stay in RESULTS.md as a
side table named by their initialisation.

Order: a model's grid joins ``RUNS`` once ``baseline_pilots.py`` shows it alive. The LSTM and GRU
first (their steps cost several RNN steps), the two interleaved so that ``--shard 0/2`` takes the
LSTM and ``--shard 1/2`` the GRU; then the tanh and ReLU RNNs; then, at the end of the list (so
that the runs before keep their shards as the list grows), seeds 1 and 2 of the LSTM's and the
GRU's picked rate at each length, once that length's grid is recorded.

Cost, estimated from the committed records before launching: the LSTM's step at T=150 took about
29 ms with evaluations (``adding/T150_lstm_*.json``, 405-594 s for 15,000 steps), so about
0.19 ms per time step; a rate's four lengths (15,000-30,000 steps at T=150-400) about 4,900 s,
the grid about 14,800 s and its seeds about 9,900 s. The GRU, from its T=50 pilots
(``baseline_pilots``: 27-33 s against the LSTM's 30-35 s), about 0.9 of the LSTM: grid
13,300 s, seeds 8,900 s. The RNNs, from the adding campaign's records (110-150 s at T=150), a
rate's four lengths about 1,540 s, both grids about 9,200 s. In all about 56,000 s, 15.6
core-hours; with ``mnist_baselines.py`` (8 core-hours) more than twice the issue's budget of about
10, so the runs go in the issue's order over several sessions, each record committed as it ends.

Actual, the records' ``wall_s`` summed (``experiments/results/adding_baselines/``, sessions 21-23):
27,414 s, 7.6 core-hours, about half the estimate: LSTM grid 8,975 s and seeds 5,219 s, GRU
grid 6,352 s and seeds 4,407 s, tanh RNN 1,225 s, ReLU RNN 1,236 s (the simple RNNs' runs took
44-200 s, a third of the adding campaign's, whose runs had evaluation-heavier records).

Run:  irnn-jax campaign experiments/campaigns/adding_baselines.py [--shard K/2]
COST_S: the estimate of a gated run at the mean length, to be replaced by the records' median
``wall_s``.
"""

import pathlib
import runpy

from irnn_jax.reproduce import records as records_lib
from irnn_jax.reproduce.studies import adding as adding_study

HERE = pathlib.Path(__file__).resolve().parent
ADDING = runpy.run_path(str(HERE / "adding.py"))
PILOTS = runpy.run_path(str(HERE / "baseline_pilots.py"))
RESULTS = HERE.parent / "results"
CAMPAIGN = "adding_baselines"

GATED, SIMPLE = ("lstm", "gru"), ("rnn_tanh", "rnn_relu")
COST_S = 1_200


def grid(cells: tuple[str, ...]) -> list:
    """The rate grid of each alive one of ``cells`` at every length, the cells interleaved."""
    alive = [cell for cell in cells if PILOTS["alive"](cell)]
    return [
        ADDING["run"](seq_len, cell, lr, variants="")
        for seq_len in ADDING["LENGTHS"]
        for lr in ADDING["LEARNING_RATES"]
        for cell in alive
    ]


def seed_runs() -> list:
    """Seeds 1 and 2 of the LSTM's and the GRU's picked rate at each length whose grid is
    recorded (:func:`irnn_jax.reproduce.studies.adding.chosen`, lowest final validation MSE of seed 0)."""
    picked = adding_study.chosen(records_lib.load(RESULTS, CAMPAIGN))
    return [
        ADDING["run"](seq_len, cell, picked[seq_len, cell][0]["config"]["optim"]["lr"], seed, variants="")
        for seq_len in ADDING["LENGTHS"]
        for cell in GATED
        if (seq_len, cell) in picked and _grid_recorded(seq_len, cell)
        for seed in (1, 2)
    ]


def _grid_recorded(seq_len: int, cell: str) -> bool:
    names = {ADDING["run"](seq_len, cell, lr, variants="").name for lr in ADDING["LEARNING_RATES"]}
    return all((RESULTS / CAMPAIGN / f"{name}.json").is_file() for name in names)


RUNS = grid(GATED) + grid(SIMPLE) + seed_runs()
