"""The campaign files of experiments/campaigns/: they load, their runs build, and the rules that
choose runs from records do what their docstrings say."""

import importlib.util
import json
import pathlib

import pytest

from irnn_jax import config as config_lib
from irnn_jax.reproduce import campaign

CAMPAIGNS = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "campaigns"


def load_module(name):
    spec = importlib.util.spec_from_file_location(f"_test_campaign_{name}", CAMPAIGNS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", sorted(CAMPAIGNS.glob("*.py")), ids=lambda path: path.stem)
def test_every_campaign_loads_with_unique_names_and_runs_whose_configs_build(path):
    for run in campaign.load(path).runs:
        config = config_lib.load(run.config)
        for assignment in run.overrides:
            config_lib.override(config, assignment)


def pilot_record(path, lr, mse):
    path.write_text(json.dumps({"valid": {"mse": mse}, "baseline": 1 / 6, "config": {"optim": {"lr": lr}}}))


def test_a_model_is_alive_once_its_best_pilot_ends_below_half_the_baseline_or_its_longer_pilot_does(
    tmp_path, monkeypatch
):
    pilots = load_module("baseline_pilots")
    monkeypatch.setattr(pilots, "RESULTS", tmp_path)
    first_round = [run for run in pilots.ROUND_1 if "_gru_lr" in run.name]
    assert pilots.alive("gru") is None and pilots.round_2("gru") == []
    for run, lr, mse in zip(first_round, (1e-4, 3e-4, 1e-3), (0.16, 0.09, 0.1), strict=True):
        pilot_record(tmp_path / f"{run.name}.json", lr, mse)
    assert pilots.alive("gru") is None  # every pilot above 1/12: the longer pilot is pending
    (longer,) = pilots.round_2("gru")
    assert longer.name == "T50_gru_lr0.0003_20k" and "train.steps=20000" in longer.overrides
    pilot_record(tmp_path / f"{longer.name}.json", 3e-4, 0.084)
    assert pilots.alive("gru") is False
    pilot_record(tmp_path / f"{longer.name}.json", 3e-4, 0.08)
    assert pilots.alive("gru") is True
    pilot_record(tmp_path / f"{first_round[0].name}.json", 1e-4, 0.05)
    assert pilots.alive("gru") is True and pilots.round_2("gru") == []


def test_every_model_of_the_comparisons_passed_its_committed_pilots():
    pilots = load_module("baseline_pilots")
    assert {cell: pilots.alive(cell) for cell in pilots.CELLS} == dict.fromkeys(pilots.CELLS, True)
