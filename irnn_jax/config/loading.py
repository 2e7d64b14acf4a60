"""Config files, Flax-examples style: a file defines ``get_config(arg: str | None) ->
ml_collections.ConfigDict`` and is named ``path/to/file.py[:arg]``, or by name for the configs
installed with the package (``adding:T=150``)."""

from __future__ import annotations

import ast
import importlib.util
import pathlib
from collections.abc import Iterable

import ml_collections

from irnn_jax.core.errors import ConfigError, UserError


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
        parsed[key] = literal(text.strip()) if has_value else True
    return parsed


PACKAGED = pathlib.Path(__file__).resolve().parent / "packaged"
# Where the packaged configs lived before they moved into the package; the commands in older
# results records name them there, and still load.
_FORMER_HOME = pathlib.Path("experiments/configs")


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


def literal(text: str) -> object:
    """``text`` read as a Python literal (``'3'`` -> 3, ``'(1, 2)'``), or as itself, a string
    (``'sgd'``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return text
