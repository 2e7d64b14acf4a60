import json
import os
import subprocess
import sys

import numpy as np
import pytest

from irnn_jax import cli
from irnn_jax.runtime import sharding
from irnn_jax.training import sweep, train

from .helpers import ADDING_CONFIG, adding_config

SCRIPT = """
import json, sys, tempfile, jax
sys.path.insert(0, {root!r})
from tests.helpers import adding_config
from irnn_jax.training import sweep, train
assert jax.device_count() == 4, jax.devices()
config = adding_config(seq_len=6, steps=30, lr=1e-2, log_every=10, eval_every=30)
fit = train.fit(config, tempfile.mkdtemp(), log=lambda line: None).summary
grid = {{"optim.lr": [1e-3, 1e-2]}}
swept = sweep.fit(config, grid, 2, tempfile.mkdtemp(), log=lambda line: None)
mapped = sweep.fit(config, grid, 2, tempfile.mkdtemp(), execution="map", log=lambda line: None)
print(json.dumps({{
    "fit": fit["test"]["mse"],
    "sweep": [r["test"]["mse"] for r in swept["runs"]],
    "mapped": [r["test"]["mse"] for r in mapped["runs"]],
}}))
"""


def test_training_and_sweeps_on_four_devices_equal_one_device(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(root=root)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,  # subprocess.run kills the child when this expires
    )
    assert result.returncode == 0, result.stderr[-2000:]
    four = json.loads(result.stdout.strip().splitlines()[-1])
    config = adding_config(seq_len=6, steps=30, lr=1e-2, log_every=10, eval_every=30)
    one_fit = train.fit(config, tmp_path / "fit", log=lambda line: None).summary
    one_sweep = sweep.fit(config, {"optim.lr": [1e-3, 1e-2]}, 2, tmp_path / "sweep", log=lambda line: None)
    np.testing.assert_allclose(four["fit"], one_fit["test"]["mse"], rtol=1e-4)
    np.testing.assert_allclose(four["sweep"], [r["test"]["mse"] for r in one_sweep["runs"]], rtol=1e-4)
    np.testing.assert_allclose(four["mapped"], [r["test"]["mse"] for r in one_sweep["runs"]], rtol=1e-4)


def test_the_command_line_splits_batches_over_the_host_devices_it_is_given(tmp_path):
    argv = ["train", "--config", f"{ADDING_CONFIG}:T=6", "--progress", "none"]
    argv += ["--config.train.steps=20", "--config.train.eval_every=20", "--config.task.held_out_size=64"]
    argv += ["--config.optim.name=adam", "--config.optim.lr=1e-2"]
    script = (
        "import sys, jax; from irnn_jax.cli import main; code = main(sys.argv[1:]); "
        "print(jax.device_count()); sys.exit(code)"
    )
    env = {name: value for name, value in os.environ.items() if name != "XLA_FLAGS"}
    counts = {}
    for devices in (1, 2):
        workdir = tmp_path / f"devices{devices}"
        done = subprocess.run(
            [sys.executable, "-c", script, *argv, "--workdir", str(workdir), "--host-devices", str(devices)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        counts[devices] = int(done.stdout.splitlines()[-1])
        assert json.loads((workdir / "summary.json").read_text())["test"]["mse"] > 0
    assert counts == {1: 1, 2: 2}
    one, two = (
        json.loads((tmp_path / f"devices{d}" / "summary.json").read_text())["test"]["mse"] for d in (1, 2)
    )
    np.testing.assert_allclose(two, one, rtol=1e-4)  # the same run, its batches split in two


def test_a_host_device_count_below_one_is_refused_in_one_line(capsys):
    with pytest.raises(ValueError, match="host devices must be a positive int, got 0"):
        sharding.use_host_devices(0)
    argv = ["train", "--config", f"{ADDING_CONFIG}:T=6", "--workdir", "unused", "--host-devices", "0"]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == "irnn-jax: error: host devices must be a positive int, got 0"
