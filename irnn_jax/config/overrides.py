"""Overrides of single config fields, ``a.b.c=value`` strings, checked against the field's type."""

from __future__ import annotations

import ml_collections

from irnn_jax.config.loading import literal
from irnn_jax.core import initializers
from irnn_jax.core.errors import ConfigError, ConfigTypeError


def override(config: ml_collections.ConfigDict, assignment: str) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as a Python literal
    (a bare word stays a string) and must match the existing field's type.

    An int is accepted for a float field (and stored as a float), and ``None`` may replace or be
    replaced by any value. A dict value replaces a whole section unchecked. In an initialiser
    section (a parent whose name ends in ``_init``) a new ``name`` replaces the section with
    that initialiser's defaults, and any other field is set as given, whatever its type (the
    initialiser checks it when the run is built).

    Args:
      config: the config to change.
      assignment: ``'field.path=value'``, the value read by
        :func:`irnn_jax.config.loading.literal`.

    Raises:
      ConfigError: for an assignment without ``=`` or field path, an unknown field or section,
        or an unknown initialiser name.
      ConfigTypeError: for a value whose type differs from the field's.
    """
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
    value = literal(text)
    if parents and parents[-1].endswith("_init"):  # an initialiser section {name, **arguments}
        _set_initializer_field(node, leaf, value, dotted)
        return
    if leaf not in node:
        raise ConfigError(f"unknown config field {dotted!r}; known here: {', '.join(node.keys())}")
    current = node[leaf]
    if isinstance(current, ml_collections.ConfigDict) and isinstance(value, dict):
        node[leaf] = ml_collections.ConfigDict(value)  # a whole section, checked when the run is built
        return
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if current is not None and value is not None and type(value) is not type(current):
        raise ConfigTypeError(
            f"config field {dotted!r} is a {type(current).__name__} ({current!r}), "
            f"got {text!r} ({type(value).__name__})"
        )
    node[leaf] = value


def _set_initializer_field(
    section: ml_collections.ConfigDict, field: str, value: object, dotted: str
) -> None:
    """Set ``field`` of an initialiser section. A new ``name`` drops the previous initialiser's
    arguments and takes the new one's defaults; an argument is set as given, whatever its type
    (the initialiser checks its arguments when the run is built)."""
    if field == "name":
        if value == section.get("name"):
            return
        try:
            arguments = initializers.defaults(value)
        except ValueError as error:
            raise ConfigError(f"{dotted}: {error}") from None
        for key in list(section.keys()):
            del section[key]
        section["name"] = value
        section.update(arguments)
        return
    if field in section:
        del section[field]  # a ConfigDict keeps a field's type: (0.9, 1.0) cannot become 0.95
    section[field] = value
