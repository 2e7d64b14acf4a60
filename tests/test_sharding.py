import json
import os
import subprocess
import sys

import numpy as np

from irnn_jax import sweep, train

from .helpers import adding_config

SCRIPT = """
import json, sys, tempfile, jax
sys.path.insert(0, {root!r})
from tests.helpers import adding_config
from irnn_jax import sweep, train
assert jax.device_count() == 4, jax.devices()
config = adding_config(seq_len=6, steps=30, lr=1e-2, log_every=10, eval_every=30)
fit = train.fit(config, tempfile.mkdtemp(), log=lambda line: None).summary
grid = {{"optim.lr": [1e-3, 1e-2]}}
swept = sweep.run(config, grid, 2, tempfile.mkdtemp(), log=lambda line: None)
mapped = sweep.run(config, grid, 2, tempfile.mkdtemp(), execution="map", log=lambda line: None)
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
    one_sweep = sweep.run(config, {"optim.lr": [1e-3, 1e-2]}, 2, tmp_path / "sweep", log=lambda line: None)
    np.testing.assert_allclose(four["fit"], one_fit["test"]["mse"], rtol=1e-4)
    np.testing.assert_allclose(four["sweep"], [r["test"]["mse"] for r in one_sweep["runs"]], rtol=1e-4)
    np.testing.assert_allclose(four["mapped"], [r["test"]["mse"] for r in one_sweep["runs"]], rtol=1e-4)
