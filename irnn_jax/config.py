"""Config files and overrides, Flax-examples style.

A config file defines ``get_config(arg: str | None) -> ml_collections.ConfigDict``; it is named
as ``path/to/file.py[:arg]``, and fields are overridden with ``config.a.b=value`` strings.
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
from collections.abc import Iterable

import ml_collections


def parse_arg(arg: str | None, allowed: Iterable[str]) -> dict[str, object]:
    """Parse a config argument like ``"quick,T=300"`` into ``{'quick': True, 'T': 300}``.

    Raises:
      ValueError: naming any key not in ``allowed``.
    """
    allowed = tuple(allowed)
    parsed: dict[str, object] = {}
    for item in filter(None, (arg or "").split(",")):
        key, has_value, text = item.partition("=")
        key = key.strip()
        if key not in allowed:
            raise ValueError(f"unknown config argument {key!r} in {arg!r}; allowed: {', '.join(allowed)}")
        parsed[key] = _literal(text.strip()) if has_value else True
    return parsed


def load(spec: str) -> ml_collections.ConfigDict:
    """Load ``path.py[:arg]`` by calling the file's ``get_config(arg)``."""
    path_text, _, arg = spec.partition(":")
    path = pathlib.Path(path_text)
    if path.suffix != ".py" or not path.is_file():
        raise ValueError(f"config file {path_text!r} does not exist or is not a .py file")
    module_spec = importlib.util.spec_from_file_location(f"_irnn_jax_config_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ValueError(f"config file {path_text!r} defines no get_config(arg)")
    return module.get_config(arg or None)


def override(config: ml_collections.ConfigDict, assignment: str) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as a Python literal
    (a bare word stays a string) and must match the existing field's type."""
    dotted, has_value, text = assignment.partition("=")
    if not has_value or not dotted:
        raise ValueError(f"override {assignment!r} must look like field.path=value")
    *parents, leaf = dotted.split(".")
    node = config
    for depth, part in enumerate(parents):
        if not isinstance(node, ml_collections.ConfigDict) or part not in node:
            raise ValueError(f"unknown config field {'.'.join(parents[: depth + 1])!r} in {assignment!r}")
        node = node[part]
    if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
        raise ValueError(f"unknown config field {dotted!r}; known here: {', '.join(node.keys())}")
    value = _literal(text)
    current = node[leaf]
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if current is not None and type(value) is not type(current):
        raise TypeError(
            f"config field {dotted!r} is a {type(current).__name__} ({current!r}), "
            f"got {text!r} ({type(value).__name__})"
        )
    node[leaf] = value


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
