"""How far translation BLEU moves from seed to seed (issue 45): the encoder-decoder with the
orthogonal recurrent initialiser, the protocol of ``eigen_translation.py``, for the GRU at seeds 1
and 2 and, in a second round, the LSTM at seed 1 (seed 0 of each is that campaign's run). The
comparison runs one seed per initialiser; this spread says which of its differences are larger
than a change of seed.

Run:  irnn-jax campaign experiments/campaigns/translation_seeds.py [--shard K/N]
COST_S: the GRU runs of ``eigen_translation.py`` took about 1,560 s each on one core while the
other core trained too (its LSTM runs 1,720 to 3,080 s); ``gru_orthogonal_seed1`` took 2,270 s
with the test suite running beside it.
"""

import dataclasses
import pathlib
import runpy

from irnn_jax.reproduce.campaign import Run

HERE = pathlib.Path(__file__).resolve().parent
COMPARISON = runpy.run_path(str(HERE / "eigen_translation.py"))
INIT = "orthogonal"
# rounds, each appended: (cell, seeds)
ROUNDS = (("gru", (1, 2)), ("lstm", (1,)))
COST_S = 1_560


def seeded(cell: str, seed: int) -> Run:
    """The comparison's run of ``cell`` with :data:`INIT`, at ``seed``."""
    base = COMPARISON["run"](cell, INIT)
    return dataclasses.replace(
        base, name=f"{base.name}_seed{seed}", overrides=(*base.overrides, f"seed={seed}")
    )


RUNS = [seeded(cell, seed) for cell, seeds in ROUNDS for seed in seeds]
