"""irnn_jax: ReLU recurrent networks initialised with the identity (IRNN) in JAX and Flax, the
recurrent initialisers they are compared with, and the papers' tasks.

``import irnn_jax`` gives the public modules as attributes, each imported on first use (so that
the command line starts without loading plotting or checkpointing it does not need):
``recurrence`` (pure recurrences), ``initializers``, ``models`` (Flax linen modules),
``nnx_models`` (their Flax NNX counterparts), ``optim``,
``tasks``, ``train`` (``fit``, ``load``), ``config``, ``experiment``, ``diagnostics``, ``report``,
``sweep``, ``campaign``, ``progress``, ``tensorboard``, ``sharding`` and ``distributed`` (jobs of
several processes).
"""

import importlib
import importlib.metadata

PUBLIC_MODULES = (
    "campaign",
    "config",
    "diagnostics",
    "distributed",
    "experiment",
    "initializers",
    "models",
    "nnx_models",
    "optim",
    "progress",
    "recurrence",
    "report",
    "sharding",
    "sweep",
    "tasks",
    "tensorboard",
    "train",
)

try:
    __version__ = importlib.metadata.version("irnn_jax")
except importlib.metadata.PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = ["__version__", *PUBLIC_MODULES]


def __getattr__(name: str) -> object:
    """Import a public module on first access (``irnn_jax.initializers``)."""
    if name in PUBLIC_MODULES:
        return importlib.import_module(f"irnn_jax.{name}")
    raise AttributeError(f"module 'irnn_jax' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *PUBLIC_MODULES])
