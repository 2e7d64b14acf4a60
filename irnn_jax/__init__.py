"""irnn_jax: ReLU recurrent networks initialised with the identity (IRNN) in JAX and Flax, the
recurrent initialisers they are compared with, and the papers' tasks.

``import irnn_jax`` gives the public modules as attributes, each imported on first use (so that
the command line starts without loading plotting or checkpointing it does not need), by a short
name wherever in the layers' folders they live (:data:`PUBLIC_MODULES`): ``recurrence`` (pure
recurrences), ``initializers``, ``models`` (Flax linen modules), ``nnx_models`` (their Flax NNX
counterparts), ``optim``, ``tasks``, ``train`` (``fit``, ``load``), ``config``, ``parts`` (a
config built into a run's parts), ``diagnostics``, ``report``, ``sweep``, ``campaign``,
``progress``, ``tensorboard``, ``sharding``, ``softmax`` (a large softmax's cross-entropy block by
block) and ``distributed`` (jobs of several processes).
"""

import importlib
import importlib.metadata

# Each public module by its attribute name, with where it lives (the layers' folders).
PUBLIC_MODULES = {
    "campaign": "irnn_jax.reproduce.campaign",
    "config": "irnn_jax.config",
    "diagnostics": "irnn_jax.models.diagnostics",
    "distributed": "irnn_jax.runtime.distributed",
    "initializers": "irnn_jax.core.initializers",
    "models": "irnn_jax.models",
    "nnx_models": "irnn_jax.models.nnx",
    "optim": "irnn_jax.training.optim",
    "parts": "irnn_jax.training.parts",
    "progress": "irnn_jax.runtime.progress",
    "recurrence": "irnn_jax.core.recurrence",
    "report": "irnn_jax.reproduce.report",
    "sharding": "irnn_jax.runtime.sharding",
    "softmax": "irnn_jax.core.softmax",
    "sweep": "irnn_jax.training.sweep",
    "tasks": "irnn_jax.tasks",
    "tensorboard": "irnn_jax.runtime.tensorboard",
    "train": "irnn_jax.training.train",
}

try:
    __version__ = importlib.metadata.version("irnn_jax")
except importlib.metadata.PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = ["__version__", *PUBLIC_MODULES]


def __getattr__(name: str) -> object:
    """Import a public module on first access (``irnn_jax.initializers``)."""
    if name in PUBLIC_MODULES:
        return importlib.import_module(PUBLIC_MODULES[name])
    raise AttributeError(f"module 'irnn_jax' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *PUBLIC_MODULES])
