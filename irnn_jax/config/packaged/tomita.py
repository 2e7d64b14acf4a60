# COMMAND: irnn-jax train --config tomita:grammar=4,quick --workdir runs/tomita4
# The seven Tomita grammars (Tomita 1982) as binary classification of strings: the main benchmark
# of the initialiser comparison of Dou & Principe (2023), not a task of the IRNN paper. Our
# protocol, stated because we could not read the eigen paper's offline: strings of length 1-16
# for training and validation, 17-32 for the test set (generalisation to longer strings), batches
# balanced between members and non-members, one logit read from the last state, an IRNN of 32
# ReLU units.
#
# Variants (comma-separated): grammar=<1..7> (default 4), cell=<c> (irnn, rnn_relu, rnn_tanh,
# lstm, gru), quick (3,000 steps; runtimes and results in experiments/RESULTS.md).
# init=<n> sets the recurrent initialiser to any registered one, with its default arguments.
"""Config of the Tomita grammars."""

import ml_collections

from irnn_jax.config import default_model, parse_arg, train_section


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """Tomita-grammar config; variants through ``arg``."""
    options = parse_arg(arg, ("grammar", "cell", "quick", "init"))
    config = ml_collections.ConfigDict()
    config.seed = 0

    config.task = ml_collections.ConfigDict()
    config.task.name = "tomita"
    config.task.grammar = options.get("grammar", 4)
    config.task.train_lengths = (1, 16)
    config.task.test_lengths = (17, 32)
    config.task.held_out_per_length = 100

    config.model = default_model(options.get("cell", "irnn"), hidden_size=32, init=options.get("init"))
    config.model.input_init = {"name": "glorot_uniform"}
    config.model.output_init = {"name": "glorot_uniform"}

    config.optim = ml_collections.ConfigDict(
        {
            "name": "adam",
            "lr": 1e-3,
            "momentum": 0.0,
            "clip_mode": "global_norm",
            "clip": 1.0,
            "decay_steps": 0,
        }
    )
    config.train = train_section(batch_size=32, steps=20_000, eval_every=2_000, eval_batch_size=500)
    if options.get("quick"):
        config.train.steps = 3_000
        config.train.eval_every = 1_000
    return config
