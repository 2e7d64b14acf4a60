"""Pilots for the pixel-MNIST reproduction (issue 17): which protocol gets an IRNN furthest, fastest.

The IRNN of the paper (100 ReLU units, w_hh = I, N(0, 0.001^2) input and readout weights) on
sequential MNIST, 20,000 steps each, held-out accuracy every 2,000, clipping by global norm at 1,
the learning rate cosine-decayed over the 20,000 steps; one change per pilot from the ``quick``
protocol (Adam 1e-4, batch 32), whose 300,000-step run reached 93.11%
(``experiments/results/mnist_seq_adam_long.json``), except rounds 5-7, which take the paper's
optimiser and batch (plain SGD, batch 16) together and vary only the rate among themselves. The
pilots are ranked by validation accuracy at 20,000 steps and by its slope; the best protocol
then runs long (the headline runs) and, at an equal budget, for the four models on both orders
(the comparison).

Stopped: ``adam_lr1e-4_batch128`` (``train.batch_size=128``) was stopped at step 6,000 of 20,000
(session 8) and taken out of ``RUNS``; its workdir stays under ``mnist_pilots.runs/``. On this
CPU a step's time grows in proportion to the batch (127 against 14.5 ms at B=128 and 16 in
benchmarks/results/train_step-20261201T201122Z.json), so samples per second do not improve
with the batch, and per sample it learned no faster than batch 32: validation accuracy 78.16%
after 512,000 samples (step 4,000) and 82.17% after 768,000 (step 6,000), where batch 32
reached 83.16% after 640,000 (``pilot_adam_lr1e-4`` at 20,000 steps, its learning rate decayed
to zero). It ran at 3-6 steps/s beside another run, which would have made it about 1.5 hours.

Run:  irnn-jax campaign experiments/campaigns/mnist_pilots.py [--shard K/2]
COST_S: an estimate from the long run's step rate (80,000 steps of batch 32 in 3,381 s on one
core) plus ten held-out passes; to be replaced by the records' median ``wall_s``.
"""

from irnn_jax.reproduce.campaign import Run

STEPS = 20_000
COMMON = (
    f"train.steps={STEPS}",
    "train.eval_every=2000",
    "train.checkpoint_every=2000",
    "train.keep_checkpoints=1",
    f"optim.decay_steps={STEPS}",
)
VARIANTS = {
    "adam_lr1e-4": (),
    "adam_lr3e-4": ("optim.lr=3e-4",),
    "rmsprop_lr1e-4": ("optim.name=rmsprop",),
    # Round 2 (session 8): Adam's own damping of gradient spikes instead of clipping every step
    # (the gradient's global norm stays near 500 throughout, so clip 1 rescales every step), and
    # the permuted order, for which only the 10,000-step quick run (41.84%) existed.
    "adam_lr1e-4_noclip": ("optim.clip_mode=none",),
    "permuted_adam_lr1e-4": ("task.permuted=True",),
    "permuted_adam_lr3e-4": ("task.permuted=True", "optim.lr=3e-4"),
    # Round 3: on the permuted order lr 1e-4 led 3e-4 by 13 points at 20,000 steps; one lower.
    "permuted_adam_lr3e-5": ("task.permuted=True", "optim.lr=3e-5"),
    # Round 4: 3e-5 led 1e-4 on the permuted order (62.2% against 52.0% at step 18,000), so one
    # lower there, and 3e-5 on the sequential order, where no rate below 1e-4 had been tried.
    "adam_lr3e-5": ("optim.lr=3e-5",),
    "permuted_adam_lr1e-5": ("task.permuted=True", "optim.lr=1e-5"),
    # Round 5 (session 18): the paper's optimiser and batch, plain SGD at batch 16 (clip 1 as
    # above, so with the gradient's norm near 500 a step moves the weights by the rate), since
    # the Adam protocol plateaus at 96.5-96.8% on the sequential order with a train-test gap of
    # 1.5 points, and a batch-16 step costs half a batch-32 one.
    "sgd_b16_lr1e-2": ("optim.name=sgd", "train.batch_size=16", "optim.lr=1e-2"),
    "sgd_b16_lr3e-2": ("optim.name=sgd", "train.batch_size=16", "optim.lr=3e-2"),
    # Round 6: 3e-2 diverged at step 1,896, 1e-2 matched Adam per sample (51.6% validation
    # after 128,000 samples, Adam 51.4%), so one rate lower.
    "sgd_b16_lr3e-3": ("optim.name=sgd", "train.batch_size=16", "optim.lr=3e-3"),
    # Round 7: 3e-3 led 1e-2 (81.56% against 72.03% validation accuracy at 20,000 steps), the
    # lowest rate tried, so one lower.
    "sgd_b16_lr1e-3": ("optim.name=sgd", "train.batch_size=16", "optim.lr=1e-3"),
}
COST_S = 1_100

RUNS = [
    Run(name=f"pilot_{name}", config="mnist:quick", overrides=(*COMMON, *changes))
    for name, changes in VARIANTS.items()
]
