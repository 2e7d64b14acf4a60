"""How far translation BLEU moves from seed to seed (issue 45): the GRU encoder-decoder with the
orthogonal recurrent initialiser, the protocol of ``eigen_translation.py``, at seeds 1 and 2 (its
seed 0 is that campaign's ``gru_orthogonal``). The comparison runs one seed per initialiser; this
spread says which of its differences are larger than a change of seed.

Run:  irnn-jax campaign experiments/campaigns/translation_seeds.py [--shard K/2]
COST_S: the GRU runs of ``eigen_translation.py`` took about 1,560 s each on one core while the
other core trained too.
"""

import dataclasses
import pathlib
import runpy

HERE = pathlib.Path(__file__).resolve().parent
COMPARISON = runpy.run_path(str(HERE / "eigen_translation.py"))
CELL, INIT, SEEDS = "gru", "orthogonal", (1, 2)
COST_S = 1_560

BASE = COMPARISON["run"](CELL, INIT)
RUNS = [
    dataclasses.replace(BASE, name=f"{BASE.name}_seed{seed}", overrides=(*BASE.overrides, f"seed={seed}"))
    for seed in SEEDS
]
