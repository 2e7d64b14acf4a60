"""The pixel-MNIST comparison's baselines again, each with its own initialisation (issue 39).

``mnist_comparison.py`` started every model from the IRNN's N(0, 0.001^2) input and readout
weights (its LSTM ended at 36.79% sequential, the paper's at about 65%), and its ReLU RNN's
random-walk recurrent matrix overflowed at step 1. Here the LSTM, the GRU, the tanh RNN and the
ReLU RNN run again with their own initialisation (``irnn_jax.config.INIT_BY_CELL``), under
``mnist_comparison.py``'s protocol and rule: a pilot grid of ``LEARNING_RATES`` at
``PILOT_STEPS`` steps on the sequential order, the rate with the highest final validation
accuracy kept for both orders, then ``STEPS`` steps per order (Adam, batch 32, clip 1, cosine
decay over the budget). The IRNN's rows stay those of ``mnist_comparison.py``, whose
initialisation is unchanged.

Order: a model's pilots join ``RUNS`` once ``baseline_pilots.py`` shows it alive, the LSTM and
GRU first; a model's comparison runs join once its pilot grid is recorded (so a campaign started
before that must be started again to take them).

Cost, estimated from the committed records before launching (``mnist_comparison/``): an LSTM
pilot 978-991 s alone, a 20,000-step LSTM run 4,500-5,500 s; the GRU about 0.9 of the LSTM
(its T=50 adding pilots in ``baseline_pilots``); an RNN pilot 150-195 s and run 730-850 s. Pilots
about 2,950 + 2,650 + 1,100 s, comparison runs about 10,000 + 9,000 + 3,200 s: about 28,900 s,
8 core-hours.

Actual, the records' ``wall_s`` summed (``experiments/results/mnist_baselines/``): 15,231 s, 4.2
core-hours: LSTM pilots 1,630 s and runs 4,476 s, GRU 2,014 s and 5,399 s, tanh RNN 223 s and
1,049 s, ReLU RNN 132 s and 308 s (its permuted run diverged at step 1,292 and records no wall
time).

Run:  irnn-jax campaign experiments/campaigns/mnist_baselines.py [--shard K/2]
COST_S: the estimate of an RNN comparison run, as ``mnist_comparison.py``'s, to be replaced by
the records' median ``wall_s``.
"""

import pathlib
import runpy

HERE = pathlib.Path(__file__).resolve().parent
COMPARISON = runpy.run_path(str(HERE / "mnist_comparison.py"))
PILOTS = runpy.run_path(str(HERE / "baseline_pilots.py"))
RESULTS = HERE.parent / "results" / "mnist_baselines"

CELLS = tuple(cell for cell in ("lstm", "gru", "rnn_tanh", "rnn_relu") if PILOTS["alive"](cell))
COST_S = 700

RUNS = COMPARISON["pilot_runs"](CELLS, variants="") + COMPARISON["comparison_runs"](
    CELLS, RESULTS, variants=""
)
