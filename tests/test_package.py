"""The installed package: its public modules, version and shipped files, as a pip user gets them."""

import importlib.metadata
import json
import os
import pathlib
import subprocess
import sys
import types

import irnn_jax

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_import_irnn_jax_gives_every_public_module_and_the_version():
    for name in irnn_jax.PUBLIC_MODULES:
        assert isinstance(getattr(irnn_jax, name), types.ModuleType), name
    assert irnn_jax.__version__ == importlib.metadata.version("irnn_jax")
    assert set(irnn_jax.PUBLIC_MODULES) <= set(dir(irnn_jax))


def test_the_built_wheel_ships_the_configs_and_trains_by_config_name_from_an_empty_directory(tmp_path):
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    wheels, site, empty = tmp_path / "wheels", tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, REPO], check=True)
    (wheel,) = wheels.glob("irnn_jax-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)
    installed = site / "irnn_jax"
    assert (installed / "py.typed").is_file() and (installed / "config" / "packaged" / "adding.py").is_file()
    # The wheel's package comes first on the path (its dependencies come from this environment).
    env = {**os.environ, "PYTHONPATH": str(site)}
    script = "import sys, irnn_jax.cli as cli; print(cli.__file__); sys.exit(cli.main())"
    argv = ["train", "--config", "adding:T=8", "--workdir", "run", "--config.train.steps=20"]
    argv += ["--config.train.eval_every=20", "--config.task.held_out_size=64"]
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], cwd=empty, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[0].startswith(str(installed))
    last = json.loads((empty / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 20
