"""The package's layers: every import inside ``irnn_jax`` points down the stack of DESIGN.md, and
nothing in it imports ``experiments/``, ``benchmarks/`` or ``examples/``."""

import ast
import pathlib

import pytest

import irnn_jax

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "irnn_jax"
# Lowest first; a module may import its own layer and those below it. A module belongs to the
# layer of its longest listed prefix.
LAYERS = (
    ("core", ("irnn_jax.core",)),
    ("runtime", ("irnn_jax.runtime",)),
    ("models", ("irnn_jax.models",)),
    ("tasks and data", ("irnn_jax.tasks", "irnn_jax.data")),
    ("config", ("irnn_jax.config",)),
    ("training", ("irnn_jax.training",)),
    ("reproduce", ("irnn_jax.reproduce",)),
    ("cli", ("irnn_jax.cli",)),
)


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    matches = [
        (len(prefix), index)
        for index, (_, prefixes) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    return max(matches)[1] if matches else None


def imported(path: pathlib.Path) -> set[str]:
    """The modules ``path`` imports (``from irnn_jax import x`` counts as ``irnn_jax.x``, and a
    public module's short name, ``irnn_jax.recurrence``, as where it lives)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    prefix = "irnn_jax."
    return {
        irnn_jax.PUBLIC_MODULES.get(name.removeprefix(prefix), name) if name.startswith(prefix) else name
        for name in names
    }


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_of_the_package_belongs_to_a_layer():
    unplaced = [
        module_name(path)
        for path in MODULES
        if module_name(path) != "irnn_jax" and layer(module_name(path)) is None
    ]
    assert unplaced == []


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_a_module_imports_only_its_own_layer_and_those_below(path):
    own = layer(module_name(path))
    if own is None:  # the top package: it only names the public modules, imported on first use
        return
    upward = sorted(
        f"{name} ({LAYERS[layer(name)][0]})"
        for name in imported(path)
        if layer(name) is not None and layer(name) > own
    )
    assert upward == [], f"{module_name(path)} ({LAYERS[own][0]}) imports from above"
    assert not {
        name for name in imported(path) if name.split(".")[0] in ("experiments", "benchmarks", "examples")
    }
