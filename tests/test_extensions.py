"""A researcher's own task, initialiser and optimiser go through everything the packaged ones do:
configs and the command line, fit, resume, sweeps, load and the report."""

import dataclasses
import json
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

from examples import extending
from irnn_jax import config as config_lib
from irnn_jax import tasks
from irnn_jax.core import initializers, optimizers, registry
from irnn_jax.core.errors import ConfigError
from irnn_jax.reproduce import report
from irnn_jax.training import parts, sweep, train

REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIG = str(REPO / "examples" / "extending_config.py")


def small(steps, decay_steps=40):
    config = config_lib.load(CONFIG)
    config.train.steps, config.train.eval_every, config.train.checkpoint_every = steps, 20, 20
    config.optim.decay_steps = decay_steps  # one schedule for a run and its resumed halves
    config.task.held_out_size = 64
    return config


def quiet(line):
    del line


def test_your_own_parts_named_by_import_path_train_and_resume_bit_identically(tmp_path, scoped_registries):
    whole = train.fit(small(40), tmp_path / "whole", log=quiet)
    train.fit(small(20), tmp_path / "halves", log=quiet)
    resumed = train.fit(small(40), tmp_path / "halves", log=quiet, resume=True)
    for a, b in zip(jax.tree.leaves(whole.state.params), jax.tree.leaves(resumed.state.params), strict=True):
        np.testing.assert_array_equal(a, b)
    loaded = train.load(tmp_path / "whole", log=quiet)
    assert isinstance(loaded.run.task, extending.DelayedRecall) and loaded.step == 40
    run = parts.build(small(40))
    w_hh = run.model.init(jax.random.PRNGKey(0), next(run.task.batches("valid", 4))[0])["params"]["rnn"]
    w_hh = np.asarray(w_hh["layer_0"]["w_hh"])
    assert np.all(w_hh == np.diag(np.diag(w_hh))) and 0.9 <= np.diag(w_hh).min() <= np.diag(w_hh).max() <= 1.0


def test_your_own_parts_sweep_and_report(tmp_path, scoped_registries):
    summary = sweep.fit(small(20), {"optim.lr": [1e-3, 3e-3]}, 1, tmp_path / "sweep", log=quiet)
    assert [run["optim.lr"] for run in summary["runs"]] == [1e-3, 3e-3]
    train.fit(small(20), tmp_path / "run", log=quiet, command="irnn-jax train --config extending_config.py")
    record = report.collect(tmp_path / "run")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "run.json").write_text(json.dumps(record))
    report.write_report(tmp_path / "results", tmp_path / "RESULTS.md", tmp_path / "figures")
    assert "examples.extending:DelayedRecall" in (tmp_path / "RESULTS.md").read_text()


def test_a_run_of_your_own_parts_trains_from_the_command_line_in_a_fresh_process(tmp_path):
    argv = [sys.executable, "-m", "irnn_jax.cli", "train", "--config", CONFIG, "--workdir", str(tmp_path)]
    argv += ["--config.train.steps=20", "--config.train.eval_every=20", "--progress", "none"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "task examples.extending:DelayedRecall" in done.stdout


def test_parts_registered_by_name_are_used_by_name(tmp_path, scoped_registries):
    tasks.register("delayed_recall", extending.DelayedRecall, replace=True)
    initializers.register("uniform_diagonal", extending.uniform_diagonal, replace=True)
    optimizers.register("lion", extending.lion, replace=True)
    config = small(20)
    config.task.name, config.optim.name = "delayed_recall", "lion"
    config_lib.override(config, "model.recurrent_init.name=uniform_diagonal")
    assert config.model.recurrent_init.to_dict() == {"name": "uniform_diagonal", "low": 0.9, "high": 1.0}
    lines = []
    fitted = train.fit(config, tmp_path, log=lines.append)
    assert (
        "task delayed_recall" in lines[0] and "uniform_diagonal(" in lines[0] and "optimiser lion" in lines[0]
    )
    assert fitted.summary["baseline"] == extending.DelayedRecall.baseline


def test_a_name_taken_or_an_import_path_that_does_not_import_is_refused_clearly(scoped_registries):
    kinds = registry.Registry("widget", {"a": 1})
    with pytest.raises(ValueError, match="widget 'a' is registered already; pass replace=True"):
        kinds.register("a", 2)
    with pytest.raises(ValueError, match="a widget name must be a non-empty word without ':'"):
        kinds.register("x:y", 2)
    with pytest.raises(ValueError, match=r"widget 'no_such_module:thing': cannot import 'no_such_module'"):
        kinds.get("no_such_module:thing")
    with pytest.raises(ValueError, match=r"module 'examples.extending' has no attribute 'nothing'"):
        kinds.get("examples.extending:nothing")
    with pytest.raises(ValueError, match=r"task 'examples.extending:lion' must be a dataclass deriving from"):
        tasks.task_class("examples.extending:lion")


def test_a_run_built_first_is_trained_as_built(tmp_path, scoped_registries):
    run = parts.build(small(20))
    fitted = train.fit(run, tmp_path, log=quiet)
    assert fitted.summary["steps"] == 20 and (tmp_path / "config.json").is_file()


def test_a_task_naming_an_unknown_architecture_is_refused_with_the_known_ones(scoped_registries):
    class Transformed(extending.DelayedRecall):
        architecture = "transformer"

    tasks.register("transformed", dataclasses.dataclass(frozen=True)(Transformed), replace=True)
    config = small(20)
    config.task.name = "transformed"
    with pytest.raises(ConfigError, match="unknown task architecture 'transformer'; allowed: rnn, seq2seq"):
        parts.build(config)
