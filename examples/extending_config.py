"""A config of the task, initialiser and optimiser of ``examples/extending.py``, each named by
its import path (run from the checkout with ``PYTHONPATH=.``)."""

import ml_collections

from irnn_jax import config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """The delayed-recall task, an IRNN with a uniform-diagonal recurrent matrix, and Lion."""
    options = config.parse_arg(arg, ("delay",))
    run = ml_collections.ConfigDict()
    run.seed = 0
    run.task = {"name": "examples.extending:DelayedRecall", "seq_len": 20, "delay": options.get("delay", 5)}
    run.task.held_out_size = 512
    run.model = config.default_model("irnn", hidden_size=32)
    run.model.recurrent_init = {"name": "examples.extending:uniform_diagonal", "low": 0.9, "high": 1.0}
    run.optim = {"name": "examples.extending:lion", "lr": 1e-3, "clip_mode": "global_norm", "clip": 1.0}
    run.optim.decay_steps = None  # follows train.steps
    run.train = config.train_section(batch_size=32, steps=2_000, eval_every=500)
    return run
