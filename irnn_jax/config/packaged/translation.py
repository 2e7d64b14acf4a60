# COMMAND: irnn-jax train --config translation:quick --workdir runs/translation_quick
# Translation of Bible verses, Spanish to English (bible_es_en: two public-domain Bibles from
# Debian packages, aligned verse by verse; whole books held out, Acts for validation and John for
# test), the third task of Dou & Principe (2023), who used Multi30k, which installs from no
# package here. An encoder-decoder (irnn_jax.models.Seq2Seq) of one GRU layer of 256 units each
# side, embeddings of 256, word vocabularies of the 4,000 most frequent training tokens per
# language, pairs of at most 40 tokens a side (23,108 of 28,592 training pairs, 719 of 819 valid,
# 798 of 878 test: tests/test_translation.py checks these counts); Adam (lr 1e-3)
# clipped at 1 by global norm, batch 64. The metric is BLEU (sacrebleu) of greedy translations;
# all settings are ours.
#
# Variants (comma-separated): cell=<c> (gru, lstm, irnn, rnn_relu, rnn_tanh), quick (128 units,
# 2,000-token vocabularies, verses of at most 30 tokens, 1,500 steps).
# init=<n> sets the recurrent initialiser to any registered one, with its default arguments.
# io_init=irnn gives every cell the IRNN's N(0, 0.001^2) input and readout weights, io_init=glorot
# the baselines' Glorot-uniform; by default each cell has its own (irnn_jax.config.INIT_BY_CELL).
"""Config of Spanish-to-English verse translation."""

import ml_collections

from irnn_jax.config import default_model, paper_optim, parse_arg, train_section


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """Translation config; variants through ``arg``."""
    options = parse_arg(arg, ("cell", "quick", "init", "io_init"))
    config = ml_collections.ConfigDict()
    config.seed = 0

    config.task = ml_collections.ConfigDict()
    config.task.name = "translation"
    config.task.dataset = "bible_es_en"
    config.task.source = "spanish"
    config.task.target = "english"
    config.task.source_vocab = 4_000
    config.task.target_vocab = 4_000
    config.task.max_length = 40

    config.model = default_model(
        options.get("cell", "gru"),
        hidden_size=256,
        init=options.get("init"),
        io_init=options.get("io_init", "standard"),
    )
    config.model.readout = "blocked"  # every target step, the softmax computed block by block
    config.model.embed_size = 256

    config.optim = paper_optim(lr=1e-3, clip=1.0)
    config.optim.name = "adam"
    config.train = train_section(batch_size=64, steps=20_000, eval_every=2_000, eval_batch_size=256)

    if options.get("quick"):
        config.model.hidden_size = 128
        config.model.embed_size = 128
        config.task.source_vocab = 2_000
        config.task.target_vocab = 2_000
        config.task.max_length = 30
        config.train.steps = 1_500
        config.train.eval_every = 500
    return config
