# COMMAND: irnn-jax train --config speech:quick --workdir runs/speech_quick
# Frame classification of speech, the set-up of Le, Jaitly & Hinton 2015 (section 4.4), which
# used TIMIT: every frame is labelled and the network predicts a label at every frame; metric:
# frame error rate. TIMIT cannot be fetched here, so the data are the Free Spoken Digit Dataset's
# MFCC frames (every frame labelled with its utterance's digit; our seeded stratified 80/10/10
# split) or Japanese Vowels (official split; label = speaker). Choices the paper leaves open or
# that differ for these data, all ours: features standardised per coefficient with training
# statistics; an IRNN of 128 ReLU units, one layer, unidirectional, readout at every frame;
# plain SGD (lr 1e-2) with gradient clipping at 1 by global norm, batch 32.
#
# Variants (comma-separated): dataset=<fsdd|japanese_vowels> (default fsdd), cell=<c> (irnn,
# rnn_relu, rnn_tanh, lstm, gru), bidirectional, quick (Adam 1e-3, 3,000 steps; runtimes and
# results in experiments/RESULTS.md).
# init=<n> sets the recurrent initialiser to any registered one, with its default arguments.
# io_init=irnn gives every cell the IRNN's N(0, 0.001^2) input and readout weights, io_init=glorot
# the baselines' Glorot-uniform; by default each cell has its own (irnn_jax.config.INIT_BY_CELL).
"""Config of speech frame classification."""

import ml_collections

from irnn_jax.config import default_model, paper_optim, parse_arg, train_section


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """Speech frame-classification config; variants through ``arg``."""
    options = parse_arg(arg, ("dataset", "cell", "bidirectional", "quick", "init", "io_init"))
    config = ml_collections.ConfigDict()
    config.seed = 0

    config.task = ml_collections.ConfigDict()
    config.task.name = "speech"
    config.task.dataset = options.get("dataset", "fsdd")
    config.task.split_seed = 0
    config.task.valid_fraction = 0.1
    config.task.test_fraction = 0.1  # FSDD only; Japanese Vowels has an official test set

    config.model = default_model(
        options.get("cell", "irnn"),
        hidden_size=128,
        init=options.get("init"),
        io_init=options.get("io_init", "standard"),
    )
    config.model.readout = "sequence"
    config.model.bidirectional = bool(options.get("bidirectional", False))

    config.optim = paper_optim(lr=1e-2, clip=1.0)
    config.train = train_section(batch_size=32, steps=100_000, eval_every=5_000, eval_batch_size=500)

    if options.get("quick"):
        config.optim.name = "adam"
        config.optim.lr = 1e-3
        config.train.steps = 3_000
        config.train.eval_every = 500
    return config
