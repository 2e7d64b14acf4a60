"""The initialiser comparison of Dou & Principe (2023) on translation (issue 45, item 3): GRU and
LSTM encoder-decoders, each with the recurrent initialisers of ``eigen_gated_mnist.INITS``
(eigen per gate block, orthogonal, Xavier, Kaiming, PyTorch's default U(-1/sqrt(H), 1/sqrt(H))),
and the IRNN (ReLU cells, w_hh = I), one seed each, on Spanish-to-English verses
(``bible_es_en``; the paper used Multi30k, which installs from no package here).

Protocol: the ``translation`` config (256 units a side, embeddings of 256, 4,000-word
vocabularies, pairs of at most 40 tokens a side, Adam 1e-3 clipped at 1 by global norm, batch
64), ``STEPS`` steps for every run with held-out BLEU of greedy translations every
``EVAL_EVERY``. Everything but the recurrent initialiser is each cell's own standard
(``irnn_jax.config.INIT_BY_CELL``); the IRNN has the paper's N(0, 0.001^2) input and readout.

How ``STEPS`` was chosen: the pilots (``translation_pilots.py``, 1,500 steps at each cell's own
initialisation) were all alive (test BLEU 2.50 GRU, 1.86 LSTM, 2.64 IRNN, against 0.05 for
copying the source, and still rising) and took 629 s (GRU), 735 s (LSTM) and 391 s (IRNN) on one
core; 4,000 steps (11 epochs of the training pairs) for the 11 runs is then about 5.3
core-hours, the issue's budget of about 5.

The records' ``wall_s`` (session 28, two shards on the two cores): the GRU runs took 1,555 to
1,590 s. ``gru_framework_default`` and ``lstm_eigen`` include about 10 minutes while their
processes were paused for the test suite; ``irnn_own`` ran as a third process beside the two
shards (``--shard 10/11``), so its 1,761 s and the runs then in flight are slower than one core.

Run:  irnn-jax campaign experiments/campaigns/eigen_translation.py [--shard K/2]
COST_S: the pilots' median cost per step (the GRU's, 0.42 s) times ``STEPS``.
"""

import pathlib
import runpy

from irnn_jax.reproduce.campaign import Run

HERE = pathlib.Path(__file__).resolve().parent
CELLS = ("gru", "lstm")
GATED_MNIST = runpy.run_path(str(HERE / "eigen_gated_mnist.py"))
INITS = GATED_MNIST["INITS"]
HIDDEN = 256
STEPS = 4_000
EVAL_EVERY = 1_000
COST_S = 1_700


def run(cell: str, init: str | None) -> Run:
    """``cell`` with recurrent initialiser ``init`` (``None``: the cell's own) on translation."""
    overrides = (
        f"train.steps={STEPS}",
        f"train.eval_every={EVAL_EVERY}",
        f"train.checkpoint_every={EVAL_EVERY}",
    )
    if init is None:
        return Run(f"{cell}_own", f"translation:cell={cell}", overrides)
    variant, init_overrides = GATED_MNIST["recurrent_init"](init, HIDDEN)
    return Run(f"{cell}_{init}", f"translation:cell={cell},{variant}", (*overrides, *init_overrides))


RUNS = [run(cell, init) for cell in CELLS for init in INITS] + [run("irnn", None)]
