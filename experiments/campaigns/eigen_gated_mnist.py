"""The initialiser comparison of Dou & Principe (2023) on gated cells, sequential pixel MNIST (issue
44, item 2): an LSTM and a GRU, each with the recurrent initialisers of
``eigen_gated_tomita.INITS`` (eigen per gate block, orthogonal, Xavier, Kaiming, PyTorch's default
U(-1/sqrt(H), 1/sqrt(H))), one seed, at the budget of the ReLU comparison ``eigen_mnist.py``: the
MNIST ``quick`` protocol (100 units, standardised pixels, Adam lr 1e-4 clipped at 1, batch 32) for
20,000 steps with held-out accuracy every 2,000. Everything but the recurrent initialiser is each
cell's own standard (``irnn_jax.config.INIT_BY_CELL``).

Run:  irnn-jax campaign experiments/campaigns/eigen_gated_mnist.py [--shard K/2]
COST_S: measured on the first run (``mnist_lstm_eigen``): a median 5.4 steps/s on one core while
the other core trained too, so 20,000 steps and the held-out passes take about 3,800 s (its
record's 4,551 s include about 11 minutes while the run was paused for the test suite). The
estimate made before, 1,350 s from the ReLU runs' 896 s and a gated step 1.5 times as costly, was
three times too low: an LSTM step costs about four ReLU steps here, and the ten runs about 10.5
core-hours, twice the issue's budget for all of its parts. The LSTM runs that ran in one process
took 3,309 s (PyTorch's default) and 3,325 s (Kaiming), the GRUs 3,491 s (orthogonal), 3,998 s
(Xavier) and 4,611 s (PyTorch's default, with the test suite beside it), the other core training
too; the resumed GRUs 3,510 s (eigen) and 3,774 s (Kaiming) across their processes (records'
``elapsed_s``).
"""

from irnn_jax.reproduce.campaign import Run

CELLS = ("lstm", "gru")
INITS = ("eigen", "orthogonal", "glorot_normal", "he_normal", "framework_default")
HIDDEN = 100
COST_S = 3_800


def recurrent_init(init: str, hidden: int) -> tuple[str, tuple[str, ...]]:
    """The config variant and overrides that give a cell of ``hidden`` units the recurrent
    initialiser ``init`` (``framework_default``: PyTorch's U(-1/sqrt(H), 1/sqrt(H)))."""
    if init == "framework_default":
        return "init=uniform", (f"model.recurrent_init.scale={hidden**-0.5}",)
    return f"init={init}", ()


def run(cell: str, init: str) -> Run:
    """``cell`` with recurrent initialiser ``init`` on sequential pixel MNIST."""
    overrides = (
        "train.steps=20000",
        "train.eval_every=2000",
        "train.checkpoint_every=2000",
    )  # no diagnostics: their state-gradient probes support the ReLU and tanh cells only
    variant, init_overrides = recurrent_init(init, HIDDEN)
    return Run(f"mnist_{cell}_{init}", f"mnist:quick,cell={cell},{variant}", (*overrides, *init_overrides))


RUNS = [run(cell, init) for cell in CELLS for init in INITS]
