"""The package's layers: every import inside ``irnn_jax`` points down the stack of DESIGN.md, and
nothing in it imports ``experiments/`` or ``benchmarks/``."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "irnn_jax"
# Lowest first; a module may import its own layer and those below it. A module not named here
# belongs to the layer of its longest listed prefix. ``optim`` (the optax chains, pure functions
# on the core's checks) sits in the core, since the config layer's schema reads its fields.
LAYERS = (
    (
        "core",
        (
            "irnn_jax.errors",
            "irnn_jax.checks",
            "irnn_jax.initializers",
            "irnn_jax.recurrence",
            "irnn_jax.optim",
        ),
    ),
    ("runtime", ("irnn_jax.runtime",)),
    ("models", ("irnn_jax.models", "irnn_jax.nnx_models", "irnn_jax.diagnostics")),
    ("tasks and data", ("irnn_jax.tasks", "irnn_jax.data")),
    ("config", ("irnn_jax.config", "irnn_jax.configs", "irnn_jax.validation")),
    (
        "training",
        (
            "irnn_jax.experiment",
            "irnn_jax.steps",
            "irnn_jax.train",
            "irnn_jax.run_log",
            "irnn_jax.workdir",
            "irnn_jax.checkpoint",
            "irnn_jax.memory",
            "irnn_jax.sweep",
        ),
    ),
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
    """The modules ``path`` imports (``from irnn_jax import x`` counts as ``irnn_jax.x``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


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
    assert not {name for name in imported(path) if name.split(".")[0] in ("experiments", "benchmarks")}
