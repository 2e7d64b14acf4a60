"""Each cell's model section: its initialisation, recurrent and non-recurrent, chosen on purpose
per cell (:data:`INIT_BY_CELL`), and the section itself (:func:`default_model`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ml_collections

from irnn_jax.config import schema
from irnn_jax.core import initializers
from irnn_jax.core.errors import ConfigError


def initializer_section(name: str) -> dict[str, object]:
    """The config section of the initialiser ``name`` with its default arguments.

    Args:
      name: a registered initialiser name or an import path ``'package.module:attribute'``.

    Returns:
      ``{'name': name, **defaults}``, e.g. ``{'name': 'identity', 'gain': 1.0}``.

    Raises:
      ConfigError: for an unknown name or an import path that does not import.
    """
    try:
        return {"name": name, **initializers.defaults(name)}
    except ValueError as error:
        raise ConfigError(str(error)) from None


# The initialisation of each cell, recurrent and non-recurrent, chosen on purpose per cell (issue
# 39): a baseline gets its own standard initialisation, not the IRNN's.
# - irnn: the paper's (Le et al. 2015, section 4.1): w_hh = I, zero bias, input and readout
#   weights N(0, 0.001^2).
# - rnn_relu: the paper's Gaussian recurrent baseline, N(0, g^2/N) with g = 1.3, the largest gain
#   of a grid whose forward state stays bounded over 784 MNIST steps
#   (experiments/analyses/relu_rnn_gain.py, experiments/results/relu_rnn_gain/gain_grid.json); the
#   random-walk gain of Sussillo & Abbott (about 1.43 at N = 100), which the paper used,
#   overflows there. Input and readout as the tanh RNN's.
# - rnn_tanh, lstm, gru: Keras's defaults for SimpleRNN, LSTM and GRU (kernel Glorot-uniform,
#   recurrent orthogonal, bias zeros; the LSTM's forget-gate bias 1, Keras's unit_forget_bias, is
#   the model's forget_bias field). Our gated cells draw each gate's block on its own, so a
#   block's Glorot bound is sqrt(6 / (D + H)), where Keras's whole-matrix draw has
#   sqrt(6 / (D + 4H)) (LSTM) or sqrt(6 / (D + 3H)) (GRU).
# - readout of every baseline: Keras's Dense default, Glorot-uniform (Flax's Dense: LeCun normal).
GLOROT_IO = {
    "input": {"name": "glorot_uniform"},
    "bias": {"name": "zeros"},
    "output": {"name": "glorot_uniform"},
}
IRNN_IO = {
    "input": {"name": "gaussian", "std": 1e-3},
    "bias": {"name": "zeros"},
    "output": {"name": "gaussian", "std": 1e-3},
}
INIT_BY_CELL = {
    "irnn": {"recurrent": {"name": "identity", "gain": 1.0}, **IRNN_IO},
    "rnn_relu": {"recurrent": {"name": "fan_in_gaussian", "gain": 1.3}, **GLOROT_IO},
    "rnn_tanh": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **GLOROT_IO},
    "lstm": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **GLOROT_IO},
    "gru": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **GLOROT_IO},
}
# What a config's ``io_init`` variant may name, with the input, bias and readout initialisation it
# gives every cell: ``standard`` each cell's own (the table above); ``irnn`` the IRNN's, as every
# cell had before issue 39 (the side tables of RESULTS.md); ``glorot`` the baselines' Glorot, so
# that an IRNN can be trained with it too (issue 43: N(0, 0.001^2) through four layers starts a
# deep IRNN's signal near 1e-12).
IO_INITS = {"standard": {}, "irnn": IRNN_IO, "glorot": GLOROT_IO}
# The token embedding's table (language modelling), N(0, 0.1^2) for every cell.
EMBED_INIT = {"name": "gaussian", "std": 0.1}


def former_init(cell: str) -> str:
    """The config variants (``",io_init=irnn"``, and for the ReLU RNN ``",init=random_walk"``)
    that give ``cell`` the initialisation every cell had before issue 39 gave each its own: the
    IRNN's N(0, 0.001^2) input and readout weights, and the random-walk recurrent matrix for
    the ReLU RNN; the comparisons' older records were run with it.

    Args:
      cell: the model's cell (``irnn``, ``rnn_relu``, ...).

    Returns:
      ``',io_init=irnn'``, with ``',init=random_walk'`` after it for ``rnn_relu``.
    """
    return ",io_init=irnn" + (",init=random_walk" if cell == "rnn_relu" else "")


def reproducing_command(command: str, model: Mapping[str, Any]) -> str:
    """A recorded ``irnn-jax train`` ``command`` that makes its run again today: where the run's
    recorded ``model`` section has the initialisation of :func:`former_init` and the command
    predates the ``io_init`` variant, that function's variants follow its ``cell=`` argument.

    Args:
      command: the recorded command line.
      model: the run's recorded ``model`` section.

    Returns:
      ``command`` with :func:`former_init`'s variants inserted after its first ``cell=CELL``
      config argument (one following ``:`` or ``,``), for a non-IRNN cell whose recorded input
      and readout initialisers are the IRNN's and a command without ``io_init=``; otherwise
      ``command`` unchanged.
    """
    cell = model.get("cell", "irnn")
    former = (
        cell != "irnn"
        and "io_init=" not in command
        and model.get("input_init") == IRNN_IO["input"]
        and model.get("output_init") == IRNN_IO["output"]
    )
    if not former:
        return command
    return re.sub(
        rf"(?<=[:,])cell={cell}(?=[ ,]|$)", lambda match: match.group(0) + former_init(cell), command, count=1
    )


def default_model(
    cell: str = "irnn", hidden_size: int = 100, init: str | None = None, io_init: str = "standard"
) -> ml_collections.ConfigDict:
    """The ``model`` config section of the papers' single-layer models for ``cell``.

    Args:
      cell: ``irnn``, ``rnn_relu``, ``rnn_tanh``, ``lstm`` or ``gru``.
      hidden_size: units of the recurrent layer.
      init: a registered recurrent initialiser (with its default arguments) in place of the
        cell's own from :data:`INIT_BY_CELL` (a config's ``init=NAME`` variant).
      io_init: ``'standard'``, the cell's own input, bias and readout initialisation from
        :data:`INIT_BY_CELL`; ``'irnn'``, the IRNN paper's N(0, 0.001^2) for every cell; or
        ``'glorot'``, the baselines' Glorot-uniform input and readout for every cell.

    Returns:
      The section; any initialiser can still be swapped by name afterwards
      (``--config.model.input_init.name=NAME``). Its other fields are
      :class:`irnn_jax.models.RNNModel`'s defaults (one layer, forward, last-state readout, no
      projection or embedding, float32).

    Raises:
      ConfigError: for an unknown ``cell``, ``io_init`` or ``init`` name.
    """
    if cell not in INIT_BY_CELL:
        raise ConfigError(f"unknown cell {cell!r}; allowed: {', '.join(INIT_BY_CELL)}")
    if io_init not in IO_INITS:
        raise ConfigError(f"unknown io_init {io_init!r}; allowed: {', '.join(IO_INITS)}")
    inits = {**INIT_BY_CELL[cell], **IO_INITS[io_init]}
    return ml_collections.ConfigDict(
        {
            **schema.model_defaults(),
            "cell": cell,
            "hidden_size": hidden_size,
            "recurrent_init": initializer_section(init) if init else dict(inits["recurrent"]),
            "input_init": dict(inits["input"]),
            "bias_init": dict(inits["bias"]),
            "output_init": dict(inits["output"]),
            "embed_init": dict(EMBED_INIT),
        }
    )
