"""Run configs, Flax-examples style: a config file defines ``get_config(arg: str | None) ->
ml_collections.ConfigDict``; it is named as ``path/to/file.py[:arg]`` (or by name for the
packaged configs), and fields are overridden with ``config.a.b=value`` strings.

The package's modules: :mod:`~irnn_jax.config.loading` (files and names),
:mod:`~irnn_jax.config.overrides`, :mod:`~irnn_jax.config.schema` (the sections, their fields,
defaults and checks), :mod:`~irnn_jax.config.cells` (each cell's model section and
initialisation) and :mod:`~irnn_jax.config.packaged` (the papers' configs). Their public names are
given here too, for config files (``config.default_model(cell='lstm')``).
"""

from irnn_jax.config.cells import (
    INIT_BY_CELL,
    IO_INITS,
    IRNN_IO,
    default_model,
    former_init,
    initializer_section,
    reproducing_command,
)
from irnn_jax.config.loading import PACKAGED, load, packaged_names, parse_arg, resolve
from irnn_jax.config.overrides import override
from irnn_jax.config.schema import complete, paper_optim, train_section, validate

__all__ = [
    "INIT_BY_CELL",
    "IO_INITS",
    "IRNN_IO",
    "PACKAGED",
    "complete",
    "default_model",
    "former_init",
    "initializer_section",
    "load",
    "override",
    "packaged_names",
    "paper_optim",
    "parse_arg",
    "reproducing_command",
    "resolve",
    "train_section",
    "validate",
]
