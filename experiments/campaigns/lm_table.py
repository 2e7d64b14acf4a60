"""The language-model table of Le, Jaitly & Hinton (2015, section 4.3) at PTB scale (issue 43,
item 2).

The paper's rows (One Billion Word, test perplexity): LSTM 512 units 68.8; IRNN 4 x 512 69.4;
IRNN 1 x 1024 with a 512-unit linear projection before the softmax 70.2; tanh RNN 4 x 512 71.8;
tanh RNN 1 x 1024 + 512 projection 72.5 (roughly equal parameters: an LSTM cell has about four
times a ReLU unit's). Here the same five shapes with N = 128 units where the paper has 512 and
2N = 256 where it has 1024 (``lm_pilots.ROWS``), on word-level PTB under the protocol of
``ptb:peer`` (PyTorch's word-level example: embedding N, plain SGD clipped to global norm 0.25,
batch 20, windows of 35 words, the state carried from window to window, held-out splits in 10
columns from the zero state), every row ``EPOCHS`` epochs of 1,327 windows: equal tokens seen.
Unlike ``ptb:peer``'s constant rate (two epochs), the rate decays to zero on a cosine over the six
epochs, the same schedule for every row (PyTorch's example divides its rate by 4 after an epoch
that did not improve; a cosine needs no held-out signal).

How N and the budget were chosen: N = 128 is the width at which our LSTM was checked against
PyTorch's (``lm_peer``); the pilots (``lm_pilots.py``, 1,000 windows) took 90-180 s per 1,000
windows on one core, so 10 runs of 6 epochs are about 10 x 8,000 x 0.11 s = 2.5 core-hours, within
the issue's 6 (N = 256 would double the softmax's share of every step).

The learning rate (and for the IRNN the identity's scale and input and readout initialisation)
of each row is picked by final validation perplexity from ``GRID`` and the rounds after it,
``ROUND_2`` to ``ROUND_5``. ``GRID`` has two settings per row around its best pilot (validation
perplexity after 1,000 windows, ``experiments/results/lm_pilots``): the LSTM 226 at lr 20 (462
at 3); the deep IRNN 593 at lr 3 with 0.9 I, while with I its held-out perplexity was 2.2e24
before training and training diverged at lr 3 and 20 (a ReLU layer with w_hh = I integrates its
input without decay, so a state carried over a stream of thousands of tokens grows, layer upon
layer); the wide IRNN 449 at lr 3 with I (508 with 0.9 I); the tanh RNNs: see ``GRID``.

Run:  irnn-jax campaign experiments/campaigns/lm_table.py [--shard K/2]
COST_S: 6 epochs at the pilots' ~0.11 s a window (with held-out passes), one core.
"""

import pathlib
import runpy

from irnn_jax.reproduce.campaign import Run

HERE = pathlib.Path(__file__).resolve().parent
PILOTS = runpy.run_path(str(HERE / "lm_pilots.py"))

EPOCH = 1_327
EPOCHS = 6
# row: the (learning rate, identity scale or None) settings trained
GRID = {
    "lstm": ((10.0, None), (20.0, None)),
    "irnn_deep": ((1.5, 0.9), (3.0, 0.9)),
    "irnn_wide": ((3.0, 1.0), (3.0, 0.9)),
    "tanh_deep": ((3.0, None), (6.0, None)),
    "tanh_wide": ((3.0, None), (6.0, None)),
}
# Round 2, after round 1 (GRID) was recorded: the rows whose best rate was the top of their grid
# one rate higher, and the IRNN rows at their best round-1 setting with the baselines' Glorot
# input and readout (io_init=glorot) in place of the paper's N(0, 0.001^2), which the pilots
# preferred (validation perplexity after 1,000 windows: deep 552 against 593, wide 393 against
# 449; experiments/results/lm_pilots/*_glorot.json).
ROUND_2 = {
    "lstm": ((40.0, None, "standard"),),
    "tanh_wide": ((12.0, None, "standard"),),
    "irnn_deep": ((3.0, 0.9, "glorot"),),
    "irnn_wide": ((3.0, 1.0, "glorot"),),
}
# Round 3, after round 2: every row's chosen rate bracketed by a lower and a higher one tried at
# the same setting (round 2 left the deep tanh RNN at the bottom of its grid, lr 3, and the IRNN
# rows' Glorot setting at one rate).
ROUND_3 = {
    "tanh_deep": ((1.5, None, "standard"),),
    "irnn_deep": ((1.5, 0.9, "glorot"), (6.0, 0.9, "glorot")),
    "irnn_wide": ((1.5, 1.0, "glorot"), (6.0, 1.0, "glorot")),
}
COST_S = 900


def run(row: str, lr: float, scale: float | None, io_init: str = "standard") -> Run:
    """Row ``row`` trained ``EPOCHS`` epochs at ``lr`` (an IRNN's identity times ``scale``), its
    input and readout initialised as ``io_init`` names (``irnn_jax.config.IO_INITS``)."""
    cell = PILOTS["ROWS"][row][0]
    name = f"{row}_lr{lr:g}" + ("" if scale is None else f"_identity{scale:g}")
    variants = f"ptb:peer,cell={cell}"
    if io_init != "standard":
        name, variants = f"{name}_{io_init}", f"{variants},io_init={io_init}"
    overrides = (
        *PILOTS["row_overrides"](row),
        f"optim.lr={lr}",
        "optim.decay_steps=None",  # the cosine over the whole budget
        f"train.steps={EPOCHS * EPOCH}",
        f"train.eval_every={EPOCH}",
        f"train.checkpoint_every={EPOCH}",
    )
    if scale is not None:
        overrides += (f"model.recurrent_init.scale={scale}",)
    return Run(name, variants, overrides)


# Round 4, after round 3: the deep IRNN's Glorot setting chose the top of its grid again (lr 6:
# valid 206.3 against 214.3 at lr 3), so one rate higher.
ROUND_4 = {"irnn_deep": ((12.0, 0.9, "glorot"),)}
# Round 5, after round 4 (the deep IRNN diverged at lr 12, so lr 6 is bracketed): the wide IRNN's
# Glorot setting chose the top of its grid too (lr 6: valid 142.9 against 168.7 at lr 3).
ROUND_5 = {"irnn_wide": ((12.0, 1.0, "glorot"),)}


RUNS = [run(row, lr, scale) for row, settings in GRID.items() for lr, scale in settings] + [
    run(row, *setting)
    for rounds in (ROUND_2, ROUND_3, ROUND_4, ROUND_5)
    for row, settings in rounds.items()
    for setting in settings
]
