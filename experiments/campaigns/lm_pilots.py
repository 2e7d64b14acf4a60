"""Pilots of the language-model table (issue 43, item 2): is each row's model alive with its
state carried from window to window, at which learning rates, and does the IRNN's carried state
stay stable?

The table is Le et al. (2015)'s One Billion Word table, its shapes scaled by one factor, N units
where the paper has 512 and 2N where it has 1024 (``ROWS``), on word-level PTB under the protocol
of ``ptb:peer`` (PyTorch's word-level example: embedding N, plain SGD clipped to global norm 0.25,
batch 20, windows of 35 words, the state carried, held-out splits in 10 columns). Each model has
its own initialisation (``irnn_jax.config.INIT_BY_CELL``): the IRNN the paper's identity (and
0.9 I, which the ``ptb`` config used to choose because carried-state runs were unstable in earlier
probes: ``IDENTITY_SCALES``), the tanh RNN and the LSTM Keras's.

A pilot trains ``STEPS`` windows (three quarters of an epoch) at each of ``LEARNING_RATES``. N is
128 here, the peer's width; the table's N is chosen from these pilots' cost.

Run:  irnn-jax campaign experiments/campaigns/lm_pilots.py [--shard K/2]
COST_S: an estimate, 1,000 steps at the ~75 ms a window of the 1 x 128 LSTM took on one core
(benchmarks/lm_step.py), with compilation; replaced by the records' median ``wall_s`` once run.
"""

from irnn_jax.reproduce.campaign import Run

N = 128
# name: (cell, layers, hidden units, projection), the paper's rows scaled by N / 512
ROWS = {
    "lstm": ("lstm", 1, N, 0),
    "irnn_deep": ("irnn", 4, N, 0),
    "irnn_wide": ("irnn", 1, 2 * N, N),
    "tanh_deep": ("rnn_tanh", 4, N, 0),
    "tanh_wide": ("rnn_tanh", 1, 2 * N, N),
}
LEARNING_RATES = (0.3, 3.0, 20.0)
IDENTITY_SCALES = (1.0, 0.9)
STEPS = 1_000
COST_S = 90


def row_overrides(row: str) -> tuple[str, ...]:
    """The ``--config.`` overrides that give ``ptb:peer`` the shape of ``row``."""
    _, layers, hidden, projection = ROWS[row]
    return (
        f"model.layers={layers}",
        f"model.hidden_size={hidden}",
        f"model.projection_size={projection}",
        f"model.embed_size={N}",
    )


def pilot(row: str, lr: float, scale: float | None = None, io_init: str = "standard") -> Run:
    """A pilot of ``row`` at learning rate ``lr`` (an IRNN's identity times ``scale``), its input
    and readout initialised as ``io_init`` names (``irnn_jax.config.IO_INITS``)."""
    cell = ROWS[row][0]
    name = f"{row}_lr{lr:g}" + ("" if scale is None else f"_identity{scale:g}")
    overrides = (*row_overrides(row), f"optim.lr={lr}", f"train.steps={STEPS}", "train.eval_every=500")
    if scale is not None:
        overrides += (f"model.recurrent_init.scale={scale}",)
    variants = f"ptb:peer,cell={cell}"
    if io_init != "standard":
        name, variants = f"{name}_{io_init}", f"{variants},io_init={io_init}"
    return Run(name, variants, (*overrides, "train.checkpoint_every=500"))


# The IRNN rows again with the baselines' Glorot input and readout in place of the paper's
# N(0, 0.001^2), which through four layers starts the signal near 1e-12 (a second round, after the
# first showed lr 3 best for both IRNN rows).
GLOROT_IO_PILOTS = [pilot("irnn_deep", 3.0, scale, "glorot") for scale in IDENTITY_SCALES] + [
    pilot("irnn_wide", 3.0, 1.0, "glorot")
]
RUNS = [
    pilot(row, lr, scale)
    for row, (cell, *_) in ROWS.items()
    for lr in LEARNING_RATES
    for scale in (IDENTITY_SCALES if cell == "irnn" else (None,))
] + GLOROT_IO_PILOTS
