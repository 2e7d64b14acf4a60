"""The initialiser comparison of Dou & Principe (2023) on the Tomita grammars.

Grammars 1-7 x eight recurrent initialisers x seeds 0-2, every run on the Tomita ``quick`` protocol
(tomita: 32 ReLU units, Glorot input and readout weights, Adam lr 1e-3 with
clipping at 1, batch 32, 3,000 steps; training and validation strings of length 1-16, test strings
17-32). Only the recurrent initialiser changes, each with its default arguments. Each run logs its
diagnostics (the spectrum of w_hh, ||dL/dh_t|| on its first batch) at initialisation and at the end.
The paper's sp-RNN could not be identified offline; np_rnn (Talathi & Vartak 2015) stands in for it.

Run:  irnn-jax campaign experiments/campaigns/eigen_tomita.py [--shard K/2]
COST_S: the median ``wall_s`` of the campaign's 168 records (one core each, XLA single-threaded,
the compilation cache warm; the first, which compiled every string length, took 59 s).
"""

from irnn_jax.reproduce.campaign import Run
from irnn_jax.reproduce.studies.init_comparison import COMPARED

GRAMMARS = range(1, 8)
SEEDS = range(3)
COST_S = 9.5

RUNS = [
    Run(
        name=f"tomita{grammar}_{init}_seed{seed}",
        config=f"tomita:grammar={grammar},quick,init={init}",
        overrides=(f"seed={seed}", "train.diagnostics_every=3000"),
    )
    for seed in SEEDS
    for grammar in GRAMMARS
    for init in COMPARED
]
