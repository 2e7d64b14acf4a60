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

    Args:
      arg: comma-separated ``key`` (a flag, ``True``) or ``key=value`` items, the value read by
        :func:`literal`; ``None`` or ``''`` for none.
      allowed: the keys the config takes.

    Returns:
      ``{key: value}`` in the order given (a repeated key keeps its last value).

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
    """The names of the configs installed with the package (``adding``, ``mnist``, ...).

    Returns:
      The sorted stems of the ``.py`` files in :data:`PACKAGED`, except those starting with ``_``.
    """
    return sorted(path.stem for path in PACKAGED.glob("*.py") if not path.stem.startswith("_"))


def resolve(path_text: str) -> pathlib.Path:
    """The config file that ``path_text`` names: a packaged config by name (``'adding'``), else a
    path to a ``.py`` file.

    A missing ``experiments/configs/NAME.py`` (where the packaged configs used to live, as older
    records name them) resolves to the packaged ``NAME``.

    Args:
      path_text: a packaged config's name or a path.

    Returns:
      The path of the config file.

    Raises:
      ConfigError: if ``path_text`` is neither a packaged name nor an existing ``.py`` file.
    """
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
    ``get_config(arg)``.

    Args:
      spec: ``name[:arg]`` or ``path.py[:arg]``, split at the first ``:``; ``arg`` is passed as
        given (a string), ``None`` when absent or empty.

    Returns:
      What ``get_config(arg)`` returns, the run config.

    Raises:
      ConfigError: if the file is not found (:func:`resolve`), fails to execute, defines no
        ``get_config``, or ``get_config`` raises anything but a :class:`~irnn_jax.core.errors.UserError`.
      UserError: raised by ``get_config`` itself (e.g. a ConfigError from :func:`parse_arg`),
        passed on unchanged.
    """
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
    (``'sgd'``).

    Args:
      text: the text to read.

    Returns:
      ``ast.literal_eval(text)``, or ``text`` itself where that fails.
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return text
