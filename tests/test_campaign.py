import json
import os
import pathlib
import signal

import pytest

from irnn_jax import cli, models
from irnn_jax import config as config_lib
from irnn_jax.core.errors import ConfigError, StoppedError
from irnn_jax.reproduce import campaign
from irnn_jax.training import checkpoint, optim

from .helpers import ADDING_CONFIG, signal_at_step

CAMPAIGNS = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "campaigns"
SMALL = ("task.held_out_size=64", "train.steps=4", "train.log_every=2", "train.eval_every=4")
SMALL += ("train.eval_batch_size=64", "model.hidden_size=8")


def run_all(loaded, tmp_path):
    return campaign.train_pending(
        loaded, loaded.runs, tmp_path / "runs", tmp_path / "results", log=lambda line: None
    )


def write_campaign(path, runs):
    path.write_text(
        "from irnn_jax.reproduce.campaign import Run\nCOST_S = 5\nRUNS = [\n"
        + "".join(f"    Run({name!r}, {spec!r}, {overrides!r}),\n" for name, spec, overrides in runs)
        + "]\n"
    )
    return path


@pytest.fixture
def two_runs(tmp_path):
    spec = f"{ADDING_CONFIG}:T=5"
    runs = [("first", spec, (*SMALL, "seed=0")), ("second", spec, (*SMALL, "seed=1"))]
    return write_campaign(tmp_path / "study.py", runs)


def test_a_campaign_records_each_run_with_the_command_that_remakes_it(tmp_path, two_runs):
    loaded = campaign.load(two_runs)
    written = run_all(loaded, tmp_path)
    assert [path.name for path in written] == ["first.json", "second.json"]
    record = json.loads(written[1].read_text())
    assert record["campaign"] == "study" and record["config"]["seed"] == 1
    assert record["command"].startswith("irnn-jax train --config") and "--config.seed=1" in record["command"]
    assert record["steps"] == 4 and record["curve"]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # recorded: pruned


def test_a_campaign_keeps_each_runs_training_log_beside_its_record(tmp_path, two_runs):
    run_all(campaign.load(two_runs), tmp_path)
    lines = (tmp_path / "results" / "second.metrics.jsonl").read_text().splitlines()
    train_steps = [line["step"] for line in map(json.loads, lines) if line["split"] == "train"]
    assert train_steps == [2, 4]  # train.log_every=2 over 4 steps: the lines the record lacks
    assert sorted(path.name for path in (tmp_path / "results").iterdir()) == [
        "first.json",
        "first.metrics.jsonl",
        "second.json",
        "second.metrics.jsonl",
    ]


def test_a_campaign_skips_runs_that_have_a_record(tmp_path, two_runs):
    loaded = campaign.load(two_runs)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "first.json").write_text("{}")
    written = run_all(loaded, tmp_path)
    assert [path.name for path in written] == ["second.json"]
    assert not (tmp_path / "runs" / "first").exists()


def test_a_recorded_runs_leftover_workdir_is_removed_and_the_run_not_trained_again(tmp_path, two_runs):
    loaded = campaign.load(two_runs)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "first.json").write_text("{}")
    (tmp_path / "runs" / "first" / "checkpoints").mkdir(parents=True)  # killed before its removal
    messages = []

    written = campaign.train_pending(
        loaded, loaded.runs[:1], tmp_path / "runs", tmp_path / "results", messages.append
    )

    assert written == [] and not (tmp_path / "runs" / "first").exists()
    assert "first is recorded already: removing its leftover workdir" in messages[0]


def test_a_diverged_run_is_recorded_as_such_and_the_campaign_goes_on(tmp_path):
    spec = f"{ADDING_CONFIG}:T=5"
    exploding = (*SMALL, "optim.name=sgd", "optim.lr=1e30", "optim.clip_mode=none")
    path = write_campaign(tmp_path / "study.py", [("boom", spec, exploding), ("fine", spec, SMALL)])
    loaded = campaign.load(path)
    run_all(loaded, tmp_path)
    boom = json.loads((tmp_path / "results" / "boom.json").read_text())
    assert boom["diverged_at"] >= 1 and "non-finite training" in boom["diverged"]
    assert [point["step"] for point in boom["curve"]] == [0, 0]  # valid and test before training
    assert boom["diagnostics"] == []  # the run logged none
    assert (tmp_path / "results" / "fine.json").is_file()


def test_shards_split_the_runs_without_overlap(two_runs):
    runs = campaign.load(two_runs).runs
    assert campaign.shard(runs, "0/2") + campaign.shard(runs, "1/2") == list(runs)
    with pytest.raises(ConfigError, match="--shard must look like K/N"):
        campaign.shard(runs, "2/2")


def test_a_campaign_file_without_a_list_of_runs_is_refused_and_an_empty_list_runs_nothing(tmp_path):
    (tmp_path / "bad.py").write_text("COST_S = 5\nRUNS = 'first'\n")
    with pytest.raises(ConfigError, match="must define RUNS"):
        campaign.load(tmp_path / "bad.py")
    empty = write_campaign(tmp_path / "empty.py", [])
    assert run_all(campaign.load(empty), tmp_path) == []


def test_a_campaign_naming_a_run_twice_is_refused(tmp_path):
    spec = f"{ADDING_CONFIG}:T=5"
    path = write_campaign(tmp_path / "study.py", [("same", spec, ()), ("same", spec, ("seed=1",))])
    with pytest.raises(ConfigError, match="names runs twice: same"):
        campaign.load(path)


def test_the_command_lists_the_pending_runs_and_their_cost(tmp_path, two_runs, capsys):
    argv = ["campaign", str(two_runs), "--runs-dir", str(tmp_path / "runs"), "--results", str(tmp_path / "r")]
    assert cli.main([*argv, "--list"]) == 0
    out = capsys.readouterr().out
    assert out.count("irnn-jax train --config") == 2 and "2 of 2 runs pending, about 0 min" in out


def test_the_runs_of_a_campaign_live_beside_its_file_by_default(tmp_path, two_runs, capsys):
    assert cli.main(["campaign", str(two_runs), "--results", str(tmp_path / "r"), "--list"]) == 0
    assert f"--workdir {tmp_path / 'study.runs' / 'first'}" in capsys.readouterr().out


def test_the_command_keeps_the_compiled_programs_for_the_runs_that_follow(tmp_path, two_runs):
    import os
    import subprocess
    import sys

    argv = [sys.executable, "-m", "irnn_jax.cli", "campaign", str(two_runs)]
    argv += ["--runs-dir", str(tmp_path / "runs"), "--results", str(tmp_path / "results")]
    home = tmp_path / "home"
    env = {name: value for name, value in os.environ.items() if name != "JAX_COMPILATION_CACHE_DIR"}
    subprocess.run(argv, check=True, capture_output=True, env={**env, "HOME": str(home)})
    records = sorted(path.name for path in (tmp_path / "results").glob("*.json"))
    assert records == ["first.json", "second.json"]
    assert any((home / campaign.COMPILATION_CACHE.relative_to("~")).iterdir())


@pytest.mark.parametrize("path", sorted(CAMPAIGNS.glob("*.py")), ids=lambda path: path.stem)
def test_every_committed_campaigns_runs_build_a_model_and_an_optimiser(path):
    loaded = campaign.load(path)
    for item in loaded.runs:
        config = config_lib.load(item.config)
        for assignment in item.overrides:
            config_lib.override(config, assignment)
        tokens = config.model.embed_size > 0  # a language model: inputs are token ids
        models.from_config(config.model, output_size=10, vocab_size=10 if tokens else 0)
        optim.make_optimizer(config_lib.complete(config)["optim"])  # decay_steps=None: the run's steps


def held_out_of(record):
    return {key: record[key] for key in ("valid", "test", "curve", "steps")}


@pytest.fixture
def never_stopped(tmp_path_factory, two_runs):
    directory = tmp_path_factory.mktemp("never_stopped")
    run_all(campaign.load(two_runs), directory)
    return {
        name: json.loads((directory / "results" / f"{name}.json").read_text()) for name in ("first", "second")
    }


def test_a_signal_during_a_run_stops_the_campaign_at_its_checkpoint_and_the_next_call_resumes_it(
    tmp_path, two_runs, never_stopped, monkeypatch
):
    loaded = campaign.load(two_runs)
    with monkeypatch.context() as patch:
        signal_at_step(patch, 4 + 2, signal.SIGTERM)  # the first run's 4 steps, then 2 of the second
        with pytest.raises(
            StoppedError, match=r"SIGTERM stopped the campaign's run second after step 2"
        ) as stop:
            run_all(loaded, tmp_path)
    assert stop.value.exit_code == 143 and "run the same campaign command again" in str(stop.value)
    assert sorted(path.name for path in (tmp_path / "results").glob("*.json")) == ["first.json"]
    manager = checkpoint.manager(tmp_path / "runs" / "second", keep=3)
    assert checkpoint.latest_step(manager) == 2
    manager.close()
    assert [path.name for path in run_all(loaded, tmp_path)] == ["second.json"]
    second = json.loads((tmp_path / "results" / "second.json").read_text())
    assert held_out_of(second) == held_out_of(never_stopped["second"])


def test_a_signal_between_runs_stops_the_campaign_once_the_finished_run_is_recorded(
    tmp_path, two_runs, never_stopped, monkeypatch
):
    keep_log = campaign._keep_log

    def signalled_while_keeping_the_log(workdir, target):
        os.kill(os.getpid(), signal.SIGINT)
        keep_log(workdir, target)

    loaded = campaign.load(two_runs)
    with monkeypatch.context() as patch:
        patch.setattr(campaign, "_keep_log", signalled_while_keeping_the_log)
        with pytest.raises(
            StoppedError, match=r"SIGINT stopped the campaign between runs, with first recorded"
        ):
            run_all(loaded, tmp_path)
    assert sorted(path.name for path in (tmp_path / "results").glob("*.json")) == ["first.json"]
    assert not (tmp_path / "runs" / "second").exists()
    run_all(loaded, tmp_path)
    second = json.loads((tmp_path / "results" / "second.json").read_text())
    assert held_out_of(second) == held_out_of(never_stopped["second"])


def test_the_campaign_command_exits_143_on_sigterm_and_says_how_to_go_on(
    tmp_path, two_runs, monkeypatch, capsys
):
    argv = ["campaign", str(two_runs), "--runs-dir", str(tmp_path / "runs"), "--results", str(tmp_path / "r")]
    monkeypatch.setattr(campaign, "use_compilation_cache", lambda directory: None)
    with monkeypatch.context() as patch:
        signal_at_step(patch, 3, signal.SIGTERM)
        assert cli.main(argv) == 143
    assert "irnn-jax: SIGTERM stopped the campaign's run first after step 3" in capsys.readouterr().err
    assert cli.main(argv) == 0
