"""The initialiser comparison of Dou & Principe (2023) on gated cells, Tomita grammars (issue 44,
item 2): an LSTM and a GRU, each with ``INITS`` as its recurrent initialiser, on the seven
grammars with three seeds, on the protocol that the pilot ``tomita_protocols.py`` chose (the one
whose initialisers spread apart on the most grammars: ``irnn_jax.reproduce.studies.
tomita_protocols.chosen``). Until that pilot is recorded this campaign has no runs.

How the eigen spectrum applies to a gated cell: each gate's ``[H, H]`` block of w_hh is drawn on
its own by the initialiser (``irnn_jax.core.gated``: an LSTM's four blocks and a GRU's three each
get an eigen-spectrum matrix), as every initialiser here treats a gated cell. One block for all
gates would share one spectrum among the input, forget and output gates; per-gate blocks keep the
initialiser's property (a spectrum near the unit circle) for each gate's own recurrence, which is
what the paper's argument about memory is about.

The initialisers: eigen, orthogonal, Xavier (Glorot normal), Kaiming (He normal) and the framework
default, PyTorch's U(-1/sqrt(H), 1/sqrt(H)) (Keras's and Flax's default recurrent initialiser is
the orthogonal one, already in the list). Everything but the recurrent initialiser is each cell's
own standard (``irnn_jax.config.INIT_BY_CELL``).

Run:  irnn-jax campaign experiments/campaigns/eigen_gated_tomita.py [--shard K/2]
COST_S: ``eigen_tomita``'s median ReLU run took 9.5 s; a gated cell's step costs about four times
as much.
"""

import pathlib

from irnn_jax.reproduce import records
from irnn_jax.reproduce.campaign import Run
from irnn_jax.reproduce.studies import tomita_protocols

HERE = pathlib.Path(__file__).resolve().parent
CELLS = ("lstm", "gru")
HIDDEN = 32  # tomita:quick's units (a protocol may change them; the default's scale follows)
INITS = ("eigen", "orthogonal", "glorot_normal", "he_normal", "framework_default")
GRAMMARS = range(1, 8)
SEEDS = range(3)
COST_S = 40


def _protocol() -> tuple[str, tuple[str, ...]] | None:
    """The chosen protocol's name and overrides, or None before the pilot is recorded."""
    import runpy

    pilot = runpy.run_path(str(HERE / "tomita_protocols.py"))
    found = records.load(HERE.parent / "results", tomita_protocols.CAMPAIGN)
    if len(found) < len(pilot["RUNS"]):
        return None
    name = tomita_protocols.chosen(found)
    return name, pilot["PROTOCOLS"][name]


def run(protocol: tuple[str, tuple[str, ...]], cell: str, init: str, grammar: int, seed: int) -> Run:
    """One run: ``cell`` with recurrent initialiser ``init`` on ``grammar``."""
    name, overrides = protocol
    hidden = next((int(o.split("=")[1]) for o in overrides if o.startswith("model.hidden_size=")), HIDDEN)
    if init == "framework_default":
        spec = f"tomita:grammar={grammar},quick,cell={cell},init=uniform"
        overrides += (f"model.recurrent_init.scale={hidden**-0.5}",)
    else:
        spec = f"tomita:grammar={grammar},quick,cell={cell},init={init}"
    return Run(f"{name}_{cell}_tomita{grammar}_{init}_seed{seed}", spec, (*overrides, f"seed={seed}"))


PROTOCOL = _protocol()
RUNS = (
    []
    if PROTOCOL is None
    else [
        run(PROTOCOL, cell, init, grammar, seed)
        for seed in SEEDS
        for cell in CELLS
        for grammar in GRAMMARS
        for init in INITS
    ]
)
