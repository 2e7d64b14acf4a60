"""Pilots of the translation comparison (issue 45, item 3): is each cell's encoder-decoder alive
on ``bible_es_en`` at the ``translation`` config's protocol (256 units, 4,000-word vocabularies,
pairs of at most 40 tokens, Adam 1e-3 clipped at 1, batch 64), and what does a step cost?

One run per cell at its own standard initialisation (``irnn_jax.config.INIT_BY_CELL``: the GRU
and LSTM orthogonal, the IRNN the identity with the paper's N(0, 0.001^2) input and readout),
``STEPS`` steps with held-out BLEU every 500. The comparison's step count comes from their cost.

Run:  irnn-jax campaign experiments/campaigns/translation_pilots.py [--shard K/2]
COST_S: an estimate, 1,500 steps at about 0.4 s a step on one core (60 steps of the 8,000-word,
50-token configuration took 0.79 steps/s with three processes on two cores), and six greedy
decodings of the held-out splits.
"""

from irnn_jax.reproduce.campaign import Run

CELLS = ("gru", "lstm", "irnn")
STEPS = 1_500
COST_S = 700

RUNS = [
    Run(
        f"{cell}_pilot",
        f"translation:cell={cell}",
        (f"train.steps={STEPS}", "train.eval_every=500", "train.checkpoint_every=500"),
    )
    for cell in CELLS
]
