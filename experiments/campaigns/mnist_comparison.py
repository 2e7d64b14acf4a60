"""The pixel-MNIST comparison of Le, Jaitly & Hinton (2015), figure 3, at an equal budget (issue 17).

Four models (IRNN; ReLU RNN with the random-walk initialiser; tanh RNN with an orthogonal
recurrent matrix; LSTM with forget-gate bias 1), 100 units each, on sequential and permuted
pixel MNIST (784 steps of one standardised pixel; the permutation of ``permutation_seed`` 0),
one seed. One protocol for all: Adam, batch 32, clipping by global norm at 1, the learning rate
cosine-decayed to zero over the budget, ``STEPS`` steps, held-out accuracy every ``STEPS // 10``.
The paper trained with SGD for about 10^6 steps; that is out of reach of 2 CPU cores.
Every model here had the IRNN's N(0, 0.001^2) input and readout weights, which held the LSTM back
(issue 39): ``mnist_baselines.py`` runs the baselines and a GRU again with their own
initialisation under this protocol, and RESULTS.md keeps this campaign's baseline rows in a side
table; its IRNN rows stand. Its runs' configs carry ``irnn_jax.config.former_init``'s variants.

Plan:

- Learning rate, per model: a pilot grid on the sequential order, ``LEARNING_RATES`` at
  ``PILOT_STEPS`` steps each (cosine over the pilot's own budget, four held-out passes); the
  rate with the highest final validation accuracy is the model's rate on both orders. (The
  IRNN's 20,000-step pilots of ``mnist_pilots.py`` rank 1e-4 above 3e-4; the grid here is the
  same rule for every model.)
- The comparison: the chosen rate of each model, both orders, ``STEPS`` steps each. Its runs
  join ``RUNS`` once a model's whole pilot grid has records in ``experiments/results/``.
- Estimated cost: an RNN step at batch 32 about 30 ms, an LSTM step about 6x that (92 against
  15.9 ms at B=16, T=784 in benchmarks/results/train_step-20261201T201122Z.json), so the grid
  about 0.3 core-hours for the RNNs and 0.6 for the LSTM, the comparison about 1.1 and 2.2:
  about 4.2 core-hours.

As it went (session 8):

- The grid's picks by validation accuracy at 4,000 steps: the IRNN 3e-4 (69.30%, against 53.21%
  at 1e-4 and 28.29% at 1e-3), the tanh RNN 1e-4 (24.82%, against 20.31% and 9.39%), the LSTM
  3e-4 (45.58%, against 35.94% at 1e-4 and 16.76% at 1e-3). A 4,000-step grid favours larger
  rates: at 20,000 steps the IRNN's pilots of ``mnist_pilots.py`` rank 1e-4 above 3e-4 (83.16%
  against 77.62%). The rule is the same for every model, so the IRNN keeps 3e-4 here.
- The ReLU RNN with the random-walk initialiser diverged at step 1 at every rate (loss 3e19 at
  step 1): at 784 steps its forward pass overflows, as at T=400 on the adding problem. All of
  its pilots count as the worst, so its comparison runs take the first rate, 1e-4, and record
  where they diverge.
- An LSTM pilot took 978-991 s (the estimate above was 720 s), so the LSTM's comparison runs
  should take about 80 minutes each.

As it went (session 9):

- The sequential LSTM took 5,518 s beside a headline run. Its test accuracy held at 18-22% from
  step 2,000 to 12,000 and rose as the rate decayed, to 36.79% at 20,000.
- On the permuted order the IRNN (39.43%) is below the tanh RNN (45.97%). Its rate, 3e-4, is
  its pick on the sequential order. The IRNN's permuted pilots of ``mnist_pilots.py`` rank 3e-4
  last and 3e-5 first (61.68% test at 20,000 steps), so the rule of one rate per model, picked
  on one order, understates it there. The record says so in its note. A permuted grid would cost
  about 0.3 core-hours for the two RNNs and 0.8 for the LSTM; it was not run.

As it went (session 10):

- The permuted LSTM resumed from its step-6,000 checkpoint and ended at 20,000 steps with 54.31%
  test accuracy (55.97% validation), above the paper's ~36% and above this campaign's permuted
  IRNN (39.43%) and tanh RNN (45.97%). Its test curve rose at every evaluation, from 32.15% at
  step 2,000; the sequential LSTM's instead sat at 18-22% until step 12,000. Its last segment
  (steps 6,000-20,000) took 3,387 s beside the sequential headline run, about 4.1 steps/s; its
  record's note lists both segments.

Run:  irnn-jax campaign experiments/campaigns/mnist_comparison.py [--shard K/2]
COST_S: the estimate of an RNN comparison run (20,000 steps at about 30 ms, evaluations
included), to be replaced by the records' median ``wall_s``.
"""

import json
import pathlib

from irnn_jax import config as config_lib
from irnn_jax.reproduce.campaign import Run

CELLS = ("irnn", "rnn_relu", "rnn_tanh", "lstm")
LEARNING_RATES = (1e-4, 3e-4, 1e-3)
PILOT_STEPS, STEPS = 4_000, 20_000
COST_S = 700
RESULTS = pathlib.Path(__file__).resolve().parents[1] / "results" / "mnist_comparison"


def run(
    name: str,
    cell: str,
    lr: float,
    steps: int,
    permuted: bool = False,
    evaluations: int = 10,
    variants: str | None = None,
) -> Run:
    """A run of ``cell`` at learning rate ``lr`` for ``steps`` steps on one pixel order, with
    ``evaluations`` held-out passes (each a checkpoint). ``variants`` are added to the config's
    argument; by default :func:`irnn_jax.config.former_init`, this campaign's initialisation
    (``''``: each cell's own, as in ``mnist_baselines.py``)."""
    variants = config_lib.former_init(cell) if variants is None else variants
    return Run(
        name=name,
        config=f"mnist:quick,cell={cell}" + (",permuted" if permuted else "") + variants,
        overrides=(
            f"optim.lr={lr}",
            f"optim.decay_steps={steps}",
            f"train.steps={steps}",
            f"train.eval_every={steps // evaluations}",
            f"train.checkpoint_every={steps // evaluations}",
            "train.keep_checkpoints=1",
        ),
    )


def pilot_runs(cells: tuple[str, ...], variants: str | None = None) -> list[Run]:
    """The pilot grid of ``cells``: each learning rate, ``PILOT_STEPS`` steps, sequential order.
    Four held-out passes each: ten would add about a quarter to a pilot's cost."""
    return [
        run(f"pilot_{cell}_lr{lr:g}", cell, lr, PILOT_STEPS, evaluations=4, variants=variants)
        for cell in cells
        for lr in LEARNING_RATES
    ]


def chosen_rate(cell: str, results: pathlib.Path = RESULTS) -> float | None:
    """The pilot grid's learning rate of ``cell`` by final validation accuracy, from the records
    in ``results`` (None until the whole grid of ``cell`` has records; a diverged pilot counts as
    the worst)."""
    paths = [results / f"pilot_{cell}_lr{lr:g}.json" for lr in LEARNING_RATES]
    if not all(path.is_file() for path in paths):
        return None
    records = [json.loads(path.read_text()) for path in paths]
    best = max(records, key=lambda record: record["valid"]["accuracy"] if "valid" in record else -1.0)
    return best["config"]["optim"]["lr"]


def comparison_runs(
    cells: tuple[str, ...], results: pathlib.Path = RESULTS, variants: str | None = None
) -> list[Run]:
    """The equal-budget runs, both orders, of each of ``cells`` whose pilot grid is complete."""
    rates = {cell: chosen_rate(cell, results) for cell in cells}
    return [
        run(f"{order}_{cell}", cell, rates[cell], STEPS, permuted=order == "permuted", variants=variants)
        for order in ("sequential", "permuted")
        for cell in cells
        if rates[cell] is not None
    ]


RUNS = pilot_runs(CELLS) + comparison_runs(CELLS)
