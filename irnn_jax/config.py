"""Config files and overrides, Flax-examples style.

A config file defines ``get_config(arg: str | None) -> ml_collections.ConfigDict``; it is named
as ``path/to/file.py[:arg]``, and fields are overridden with ``config.a.b=value`` strings.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import ml_collections

from irnn_jax import initializers
from irnn_jax.errors import ConfigError, ConfigTypeError, UserError


def parse_arg(arg: str | None, allowed: Iterable[str]) -> dict[str, object]:
    """Parse a config argument like ``"quick,T=300"`` into ``{'quick': True, 'T': 300}``.

    Raises:
      ConfigError: naming any key not in ``allowed``.
    """
    allowed = tuple(allowed)
    parsed: dict[str, object] = {}
    for item in filter(None, (arg or "").split(",")):
        key, has_value, text = item.partition("=")
        key = key.strip()
        if key not in allowed:
            raise ConfigError(f"unknown config argument {key!r} in {arg!r}; allowed: {', '.join(allowed)}")
        parsed[key] = _literal(text.strip()) if has_value else True
    return parsed


PACKAGED = pathlib.Path(__file__).resolve().parent / "configs"
# Where the packaged configs lived before they moved into the package; the commands in older
# results records name them there, and still load.
_FORMER_HOME = pathlib.Path("experiments/configs")


# Fields added to configs after runs had been recorded, with the value that does what the runs
# recorded without them did: :func:`upgrade` fills them in, so older workdirs resume and load.
ADDED_FIELDS = {"model.dtype": "float32", "model.param_dtype": "float32"}


def upgrade(recorded: dict[str, Any]) -> dict[str, Any]:
    """A copy of a recorded config (plain dicts) with every :data:`ADDED_FIELDS` entry it lacks."""
    upgraded = json.loads(json.dumps(recorded))
    for dotted, value in ADDED_FIELDS.items():
        *parents, leaf = dotted.split(".")
        section = upgraded
        for part in parents:
            section = section.setdefault(part, {})
        section.setdefault(leaf, value)
    return upgraded


def packaged_names() -> list[str]:
    """The names of the configs installed with the package (``adding``, ``mnist``, ...)."""
    return sorted(path.stem for path in PACKAGED.glob("*.py") if not path.stem.startswith("_"))


def resolve(path_text: str) -> pathlib.Path:
    """The config file that ``path_text`` names: a packaged config by name (``'adding'``), else a
    path to a ``.py`` file."""
    if path_text in packaged_names():
        return PACKAGED / f"{path_text}.py"
    path = pathlib.Path(path_text)
    if not path.is_file() and path.parent == _FORMER_HOME and path.stem in packaged_names():
        return PACKAGED / path.name
    if path.suffix != ".py" or not path.is_file():
        raise ConfigError(
            f"config {path_text!r} is neither a packaged config ({', '.join(packaged_names())}) "
            "nor an existing .py file"
        )
    return path


def load(spec: str) -> ml_collections.ConfigDict:
    """Load ``name[:arg]`` (a packaged config) or ``path.py[:arg]`` by calling the file's
    ``get_config(arg)``."""
    path_text, _, arg = spec.partition(":")
    path = resolve(path_text)
    module_spec = importlib.util.spec_from_file_location(f"_irnn_jax_config_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # a broken config file is bad input, reported in one line
        raise ConfigError(
            f"config file {path_text!r} failed to load: {type(error).__name__}: {error}"
        ) from None
    if not hasattr(module, "get_config"):
        raise ConfigError(f"config file {path_text!r} defines no get_config(arg)")
    try:
        return module.get_config(arg or None)
    except UserError:
        raise
    except Exception as error:  # the config file's own code failed on this argument
        raise ConfigError(f"{spec!r}: get_config failed: {type(error).__name__}: {error}") from None


def override(config: ml_collections.ConfigDict, assignment: str) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as a Python literal
    (a bare word stays a string) and must match the existing field's type."""
    dotted, has_value, text = assignment.partition("=")
    if not has_value or not dotted:
        raise ConfigError(f"override {assignment!r} must look like field.path=value")
    *parents, leaf = dotted.split(".")
    node = config
    for depth, part in enumerate(parents):
        if not isinstance(node, ml_collections.ConfigDict) or part not in node:
            raise ConfigError(f"unknown config field {'.'.join(parents[: depth + 1])!r} in {assignment!r}")
        node = node[part]
    if not isinstance(node, ml_collections.ConfigDict):
        raise ConfigError(f"unknown config field {dotted!r}: {'.'.join(parents)!r} is a value, not a section")
    value = _literal(text)
    if parents and parents[-1].endswith("_init"):  # an initialiser section {name, **arguments}
        _set_initializer_field(node, leaf, value)
        return
    if leaf not in node:
        raise ConfigError(f"unknown config field {dotted!r}; known here: {', '.join(node.keys())}")
    current = node[leaf]
    if isinstance(current, ml_collections.ConfigDict) and isinstance(value, dict):
        node[leaf] = ml_collections.ConfigDict(value)  # a whole section, checked when the run is built
        return
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if current is not None and type(value) is not type(current):
        raise ConfigTypeError(
            f"config field {dotted!r} is a {type(current).__name__} ({current!r}), "
            f"got {text!r} ({type(value).__name__})"
        )
    node[leaf] = value


def _set_initializer_field(section: ml_collections.ConfigDict, field: str, value: object) -> None:
    """Set ``field`` of an initialiser section. A new ``name`` drops the previous initialiser's
    arguments and takes the new one's defaults; an argument is set as given, whatever its type
    (the initialiser checks its arguments when the run is built)."""
    if field == "name":
        if value == section.get("name"):
            return
        try:
            arguments = initializers.defaults(value)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        for key in list(section.keys()):
            del section[key]
        section["name"] = value
        section.update(arguments)
        return
    if field in section:
        del section[field]  # a ConfigDict keeps a field's type: (0.9, 1.0) cannot become 0.95
    section[field] = value


def initializer_section(name: str) -> dict[str, object]:
    """The config section of the initialiser ``name`` with its default arguments."""
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
_STANDARD_IO = {
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
    "rnn_relu": {"recurrent": {"name": "fan_in_gaussian", "gain": 1.3}, **_STANDARD_IO},
    "rnn_tanh": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **_STANDARD_IO},
    "lstm": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **_STANDARD_IO},
    "gru": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **_STANDARD_IO},
}
# What a config's ``io_init`` variant may name: each cell's own input, bias and readout
# initialisation (the table above), or the IRNN's for every cell, as every cell had before issue
# 39 (the side tables of RESULTS.md).
IO_INITS = ("standard", "irnn")


def former_init(cell: str) -> str:
    """The config variants (``",io_init=irnn"``, and for the ReLU RNN ``",init=random_walk"``)
    that give ``cell`` the initialisation every cell had before issue 39 gave each its own: the
    IRNN's N(0, 0.001^2) input and readout weights, and the random-walk recurrent matrix for
    the ReLU RNN; the comparisons' older records were run with it."""
    return ",io_init=irnn" + (",init=random_walk" if cell == "rnn_relu" else "")


def reproducing_command(command: str, model: Mapping[str, Any]) -> str:
    """A recorded ``irnn-jax train`` ``command`` that makes its run again today: where the run's
    recorded ``model`` section has the initialisation of :func:`former_init` and the command
    predates the ``io_init`` variant, that function's variants follow its ``cell=`` argument."""
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
        :data:`INIT_BY_CELL`, or ``'irnn'``, the IRNN paper's N(0, 0.001^2) for every cell.

    Returns:
      The section; any initialiser can still be swapped by name afterwards
      (``--config.model.input_init.name=NAME``).
    """
    if cell not in INIT_BY_CELL:
        raise ConfigError(f"unknown cell {cell!r}; allowed: {', '.join(INIT_BY_CELL)}")
    if io_init not in IO_INITS:
        raise ConfigError(f"unknown io_init {io_init!r}; allowed: {', '.join(IO_INITS)}")
    inits = {**INIT_BY_CELL[cell], **(IRNN_IO if io_init == "irnn" else {})}
    model = ml_collections.ConfigDict()
    model.cell = cell
    model.hidden_size = hidden_size
    model.layers = 1
    model.bidirectional = False
    model.forget_bias = 1.0  # LSTM only; the paper searched {1, 4, 10, 20}
    model.projection_size = 0
    model.readout = "last"
    model.unroll = 1
    model.recurrent_init = initializer_section(init) if init else dict(inits["recurrent"])
    model.input_init = dict(inits["input"])
    model.bias_init = dict(inits["bias"])
    model.output_init = dict(inits["output"])
    model.embed_size = 0  # > 0 for tasks whose inputs are token ids (language modelling)
    model.embed_init = {"name": "gaussian", "std": 0.1}
    model.dtype = "float32"  # of the computation; "bfloat16" on accelerators
    model.param_dtype = "float32"
    return model


def paper_optim(lr: float, clip: float) -> ml_collections.ConfigDict:
    """The ``optim`` section of the papers' protocol: plain SGD, clipping by global norm."""
    return ml_collections.ConfigDict(
        {"name": "sgd", "lr": lr, "momentum": 0.0, "clip_mode": "global_norm", "clip": clip, "decay_steps": 0}
    )


def train_section(
    batch_size: int, steps: int, eval_every: int, log_every: int = 100, eval_batch_size: int = 1000
) -> ml_collections.ConfigDict:
    """The ``train`` section: batch size, step budget, how often to log, evaluate and
    checkpoint (at every evaluation, keeping 3), and what to do on divergence (stop)."""
    return ml_collections.ConfigDict(
        {
            "batch_size": batch_size,
            "steps": steps,
            "log_every": log_every,
            "eval_every": eval_every,
            "eval_batch_size": eval_batch_size,
            "checkpoint_every": eval_every,
            "keep_checkpoints": 3,
            "on_divergence": "stop",  # or "rollback": back to the last checkpoint, lower lr
            "rollback_lr_factor": 0.5,
            "max_rollbacks": 3,
            "diagnostics_every": 0,  # > 0: diagnostics.jsonl (||dL/dh_t||, w_hh spectrum) every N steps
        }
    )


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return text
