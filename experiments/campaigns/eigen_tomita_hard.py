"""The initialiser comparison of Dou & Principe (2023) on the Tomita grammars, on the protocol that
separates the initialisers (issue 44, item 1): ``eigen_tomita.py``'s eight recurrent initialisers
of the ReLU RNN, grammars 1-7, seeds 0-2, on the protocol that the pilot ``tomita_protocols.py``
chose (the one whose initialisers spread apart on the most grammars,
``irnn_jax.reproduce.studies.tomita_protocols.chosen``), so that the pilot's one-seed spread is
confirmed as a mean and spread over three seeds. ``eigen_tomita.py`` stays as the easy protocol.
Until the pilot is recorded this campaign has no runs.

Run:  irnn-jax campaign experiments/campaigns/eigen_tomita_hard.py [--shard K/2]
COST_S: ``eigen_tomita``'s median run took 9.5 s; the pilot's protocols cost about as much or less.
"""

import pathlib
import runpy

from irnn_jax.reproduce.campaign import Run
from irnn_jax.reproduce.studies.init_comparison import COMPARED

HERE = pathlib.Path(__file__).resolve().parent
GATED = runpy.run_path(str(HERE / "eigen_gated_tomita.py"))
SEEDS = range(3)
COST_S = 9.5

RUNS = (
    []
    if GATED["PROTOCOL"] is None
    else [
        Run(
            f"{GATED['PROTOCOL'][0]}_tomita{grammar}_{init}_seed{seed}",
            f"tomita:grammar={grammar},quick,init={init}",
            (*GATED["PROTOCOL"][1], f"seed={seed}"),
        )
        for seed in SEEDS
        for grammar in GATED["GRAMMARS"]
        for init in COMPARED
    ]
)
