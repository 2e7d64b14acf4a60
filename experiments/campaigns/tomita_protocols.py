"""Which Tomita protocol separates the recurrent initialisers? A pilot (issue 44, item 1).

On the ``tomita:quick`` protocol (32 ReLU units, Adam 1e-3 clipped at 1, batch 32, 3,000 steps,
training strings of length 1-16 and test strings of 17-32) most of the eight initialisers of
``eigen_tomita.py`` reach 100% test accuracy on most grammars, so that table cannot rank them.
Each candidate in ``PROTOCOLS`` makes the task harder in one way (a smaller budget, plain SGD,
fewer units, test strings twice as long); every initialiser trains every grammar on each
candidate with seed 0. The protocol chosen for the gated-cell comparison (item 2) is the one whose
initialisers' mean test accuracies spread apart on the most grammars, read from these records
(``irnn_jax.reproduce.studies.init_comparison`` tabulates them); the spread is then confirmed
with three seeds.

Run:  irnn-jax campaign experiments/campaigns/tomita_protocols.py [--shard K/2]
COST_S: ``eigen_tomita``'s median run took 9.5 s for 3,000 steps; the longer test strings and the
SGD runs cost about as much, the 500-step and 8-unit runs less.
"""

from irnn_jax.reproduce.campaign import Run
from irnn_jax.reproduce.studies.init_comparison import COMPARED

GRAMMARS = range(1, 8)
# name: the --config. overrides that make the protocol from tomita:quick
PROTOCOLS = {
    "steps500": ("train.steps=500", "train.eval_every=250"),
    "sgd": ("optim.name=sgd", "optim.lr=0.1"),
    "units8": ("model.hidden_size=8",),
    "test64": ("task.test_lengths=(33, 64)",),
}
COST_S = 9.5

RUNS = [
    Run(
        name=f"{protocol}_tomita{grammar}_{init}",
        config=f"tomita:grammar={grammar},quick,init={init}",
        overrides=overrides,
    )
    for protocol, overrides in PROTOCOLS.items()
    for grammar in GRAMMARS
    for init in COMPARED
]
