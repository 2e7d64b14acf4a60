"""The initialiser comparison of Dou & Principe (2023) on sequential pixel MNIST.

The eight recurrent initialisers of ``eigen_tomita.py``, one seed, one equal budget: the MNIST
``quick`` protocol (mnist: 100 ReLU units, N(0, 0.001^2) input and readout
weights, standardised pixels, Adam lr 1e-4 with clipping at 1, batch 32) run for 20,000 steps with
held-out accuracy every 2,000. Only the recurrent initialiser changes, each with its default
arguments, and its diagnostics (spectrum of w_hh, ||dL/dh_t|| on its first batch) are logged at
initialisation and at the end; np_rnn stands in for the paper's sp-RNN, which could not be
identified.

Run:  irnn-jax campaign experiments/campaigns/eigen_mnist.py
COST_S: the median ``wall_s`` of the records of the runs that trained all 20,000 steps (one core
each, XLA single-threaded, sharing the machine with other work); diverged runs end sooner.
"""

from irnn_jax.reproduce.campaign import Run
from irnn_jax.reproduce.studies.init_comparison import COMPARED

COST_S = 896

RUNS = [
    Run(
        name=f"mnist_{init}",
        config=f"mnist:quick,init={init}",
        overrides=(
            "train.steps=20000",
            "train.eval_every=2000",
            "train.checkpoint_every=2000",
            "train.diagnostics_every=20000",
        ),
    )
    for init in COMPARED
]
