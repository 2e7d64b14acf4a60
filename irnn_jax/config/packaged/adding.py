# COMMAND: irnn-jax train --config adding:T=150 --workdir runs/adding_T150
# Paper protocol (Le, Jaitly & Hinton 2015, section 4.1): 100 ReLU units, w_hh = I, zero bias,
# N(0, 0.001^2) input and readout weights, batch 16, plain SGD with gradient clipping by global
# norm. The paper grid-searched lr in 1e-9..1e-1 and clip in {1, 10, 100, 1000} and does not
# print the winners, so lr=0.01, clip=10 here are our defaults: sweep them. Runtimes and
# results of every variant: the run records in experiments/results/ and experiments/RESULTS.md.
#
# Variants (comma-separated, e.g. "quick,T=300"):
#   T=<int>   sequence length (default 150; the paper uses 150, 200, 300, 400)
#   cell=<c>  irnn (default), rnn_relu, rnn_tanh, lstm, gru: the paper's four models and a GRU,
#             each with its own initialisation (irnn_jax.config.INIT_BY_CELL)
#   init=<n>  any registered recurrent initialiser, with its default arguments
#   io_init=irnn every cell with the IRNN's input, bias and readout initialisation,
#             N(0, 0.001^2) (all cells had it before issue 39); by default each
#             cell has its own (irnn_jax.config.INIT_BY_CELL)
#   io_init=glorot every cell with the baselines' Glorot-uniform input and readout
#   quick     20,000 steps for a first look
#   demo      the `make demo` run: T=100, Adam lr 2e-3 with cosine decay, clip 1, batch 32,
#             8,000 steps, sized to finish in minutes on a 2-core CPU
"""Config of the adding problem."""

import ml_collections

from irnn_jax.config import default_model, paper_optim, parse_arg, train_section


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """Paper-protocol config of the adding problem; variants through ``arg``."""
    options = parse_arg(arg, ("T", "cell", "quick", "demo", "init", "io_init"))
    config = ml_collections.ConfigDict()
    config.seed = 0

    config.task = ml_collections.ConfigDict()
    config.task.name = "adding"
    config.task.seq_len = options.get("T", 100 if options.get("demo") else 150)
    config.task.held_out_size = 10_000

    config.model = default_model(
        options.get("cell", "irnn"),
        hidden_size=100,
        init=options.get("init"),
        io_init=options.get("io_init", "standard"),
    )

    config.optim = paper_optim(lr=0.01, clip=10.0)
    config.train = train_section(batch_size=16, steps=1_000_000, eval_every=10_000)

    if options.get("quick"):
        config.train.steps = 20_000
        config.train.eval_every = 2_000
    if options.get("demo"):
        # Not the paper's protocol: chosen so that a 2-core CPU solves it in minutes (hence also
        # T=100, below the paper's lengths); its results: experiments/results/demo_seed*.json.
        config.optim.name = "adam"
        config.optim.lr = 2e-3
        config.optim.clip = 1.0
        config.optim.decay_steps = None  # the cosine decay follows train.steps
        config.train.batch_size = 32
        config.train.steps = 8_000
        config.train.eval_every = 1_000
    return config
