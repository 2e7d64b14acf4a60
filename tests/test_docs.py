"""The API reference builds with Sphinx, warnings as errors, and documents the public API."""

import importlib
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

import irnn_jax

REPO = pathlib.Path(__file__).resolve().parents[1]


def public_functions():
    """(dotted name, function) of every public function of the public modules and every public
    method of their classes, each once, where it is defined in irnn_jax."""
    seen = {}
    for module_name in irnn_jax.PUBLIC_MODULES.values():
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if name.startswith("_") or not getattr(value, "__module__", "").startswith("irnn_jax"):
                continue
            if inspect.isfunction(value):
                seen.setdefault(f"{value.__module__}.{value.__qualname__}", value)
            elif inspect.isclass(value):
                fields = getattr(value, "__dataclass_fields__", {})
                for attribute, method in vars(value).items():
                    if attribute.startswith("_") or attribute in fields or not inspect.isfunction(method):
                        continue
                    if method.__module__.startswith("irnn_jax"):
                        seen.setdefault(f"{method.__module__}.{method.__qualname__}", method)
    return sorted(seen.items())


def missing_sections(function):
    """The Google-style sections ``function``'s docstring lacks: ``Args:`` where it takes
    arguments, ``Returns:`` (or ``Yields:``) where it returns something."""
    doc = inspect.getdoc(function) or ""
    signature = inspect.signature(function)
    missing = []
    if [p for p in signature.parameters if p not in ("self", "cls")] and "Args:" not in doc:
        missing.append("Args:")
    returns = signature.return_annotation not in (None, "None", inspect.Signature.empty)
    if returns and "Returns:" not in doc and "Yields:" not in doc:
        missing.append("Returns:")
    return missing


@pytest.mark.parametrize(
    "name, function", public_functions(), ids=lambda item: item if isinstance(item, str) else ""
)
def test_every_public_function_says_what_it_takes_and_returns(name, function):
    assert not missing_sections(function), f"{name} lacks {missing_sections(function)}"


def test_the_api_reference_builds_without_a_warning_and_documents_the_public_functions(tmp_path):
    argv = [sys.executable, "-m", "sphinx", "-E", "-q", "-W", "--keep-going", "-b", "html"]
    fast_notebook = {**os.environ, "IRNN_JAX_NOTEBOOK_FAST": "1"}
    done = subprocess.run(
        [*argv, str(REPO / "docs"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=fast_notebook,
    )
    assert done.returncode == 0, done.stderr
    api = (tmp_path / "api.html").read_text()
    for name in ("rnn_final", "lstm_final", "make_optimizer", "load_run", "MetricsWriter", "register"):
        assert 'id="irnn_jax.' in api and name in api, name
    assert "DelayedRecall" in (tmp_path / "extending.html").read_text()
    assert "Changelog" in (tmp_path / "changelog.html").read_text()
    quickstart = (tmp_path / "quickstart.html").read_text()  # executed: its outputs and figures
    assert "test MSE" in quickstart and quickstart.count("<img") >= 3
