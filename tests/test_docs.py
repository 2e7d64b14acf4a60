"""The API reference builds with Sphinx, warnings as errors, and documents the public API."""

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_the_api_reference_builds_without_a_warning_and_documents_the_public_functions(tmp_path):
    argv = [sys.executable, "-m", "sphinx", "-E", "-q", "-W", "--keep-going", "-b", "html"]
    done = subprocess.run(
        [*argv, str(REPO / "docs"), str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    api = (tmp_path / "api.html").read_text()
    for name in ("rnn_final", "lstm_final", "make_optimizer", "load_run", "MetricsWriter", "register"):
        assert 'id="irnn_jax.' in api and name in api, name
    assert "DelayedRecall" in (tmp_path / "extending.html").read_text()
    assert "Changelog" in (tmp_path / "changelog.html").read_text()
