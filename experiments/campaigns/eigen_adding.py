"""The spectrum of w_hh before and after training on a regression task, for the eigenvalue
analysis of Dou & Principe (2023) (issue 44, item 3): the adding problem (``adding:demo``: T = 100,
100 ReLU units, 8,000 steps) with the IRNN's identity and with the eigen initialiser, three seeds
each; the diagnostics (the spectrum of w_hh among them) are logged at initialisation and at the
end. The classification tasks' spectra come from ``eigen_mnist.py`` and ``eigen_tomita.py``,
which log the same diagnostics.

Run:  irnn-jax campaign experiments/campaigns/eigen_adding.py
COST_S: ``adding_diag_irnn``'s record (the same protocol with diagnostics every 1,000 steps) took
69 s on one core.
"""

from irnn_jax.reproduce.campaign import Run

INITS = ("identity", "eigen")
SEEDS = range(3)
COST_S = 70

RUNS = [
    Run(
        name=f"adding_{init}_seed{seed}",
        config=f"adding:demo,init={init}",
        overrides=(f"seed={seed}", "train.diagnostics_every=8000"),
    )
    for init in INITS
    for seed in SEEDS
]
