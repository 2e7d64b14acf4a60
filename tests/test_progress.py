import sys
import time
import types

import pytest

from irnn_jax.runtime import progress
from irnn_jax.training import train

from .helpers import adding_config


def fake_ipython(monkeypatch, config):
    shell = types.SimpleNamespace(config=config)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_auto_progress_is_a_widget_in_a_notebook_kernel_and_plain_lines_in_a_log(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # a log file, not a terminal
    assert progress.resolve("auto") == "lines"
    fake_ipython(monkeypatch, {"IPKernelApp": {}})
    with_widgets = types.SimpleNamespace(name="ipywidgets")
    monkeypatch.setattr(progress.importlib.util, "find_spec", lambda name: with_widgets)
    assert progress.in_notebook() and progress.resolve("auto") == "notebook"
    monkeypatch.setattr(progress.importlib.util, "find_spec", lambda name: None)
    assert progress.resolve("auto") == "lines"  # a kernel without ipywidgets gets plain lines
    fake_ipython(monkeypatch, {})  # a terminal IPython is no kernel
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert progress.resolve("auto") == "bar"


def test_an_unknown_progress_mode_is_refused_naming_the_modes():
    with pytest.raises(
        ValueError, match="progress must be one of auto, notebook, bar, lines, none, got 'fancy'"
    ):
        progress.resolve("fancy")


def test_plain_lines_give_the_step_the_share_done_the_rate_and_the_loss_and_one_comes_at_the_end():
    lines = []
    shown = progress.start("lines", total=200, initial=100, log=lines.append, every_s=0.0)
    shown.update(150, 0.25)
    assert lines[0].startswith("progress 150/200 (75%), ") and "steps/s, loss 0.25, " in lines[0]
    assert lines[0].endswith(" left")
    slow = progress.start("lines", total=200, initial=100, log=lines.append, every_s=3600.0)
    slow.update(150, 0.25)
    slow.update(200, 0.125)
    slow.close()
    assert len(lines) == 2 and lines[1].startswith("progress 200/200 (100%), ")


def test_fit_reports_progress_through_its_log_outside_a_terminal(tmp_path):
    lines = []
    train.fit(adding_config(seq_len=6, steps=20, log_every=10), tmp_path, log=lines.append, progress="lines")
    assert [line for line in lines if line.startswith("progress ")][-1].startswith("progress 20/20 (100%)")
    quiet = []
    train.fit(
        adding_config(seq_len=6, steps=20, log_every=10),
        tmp_path / "quiet",
        log=quiet.append,
        progress="none",
    )
    assert not any(line.startswith("progress ") for line in quiet)


def test_a_heartbeat_logs_while_its_block_runs_and_stops_after():
    lines = []
    with progress.heartbeat("still fetching", lines.append, every_s=0.01):
        time.sleep(0.1)
    count = len(lines)
    time.sleep(0.05)
    assert count >= 2 and len(lines) == count and lines[0].startswith("still fetching (")
