import json
import signal

import numpy as np
import pytest

from irnn_jax import cli
from irnn_jax import config as config_lib
from irnn_jax.core.errors import StoppedError, WorkdirError
from irnn_jax.training import checkpoint, steps, sweep, train
from irnn_jax.training import workdir as workdir_lib

from .helpers import ADDING_CONFIG, adding_config, signal_at_step


def small_config():
    return adding_config(seq_len=6, steps=30, lr=1e-2, log_every=10, eval_every=30)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    grid = {"optim.lr": [1e-3, 1e-2], "optim.clip": [1.0, 0.01]}
    return sweep.fit(small_config(), grid, 2, tmp_path_factory.mktemp("sweep"), log=lambda line: None)


def test_the_grid_is_every_combination_of_values_and_seeds(swept):
    combos = [(r["optim.lr"], r["optim.clip"], r["seed"]) for r in swept["runs"]]
    assert combos == [(lr, clip, seed) for lr in (1e-3, 1e-2) for clip in (1.0, 0.01) for seed in (0, 1)]


@pytest.mark.parametrize("index", [0, 3, 6])
def test_each_run_of_a_vmapped_sweep_equals_the_same_config_trained_alone(swept, index, tmp_path):
    run = swept["runs"][index]
    config = small_config()
    config.optim.lr, config.optim.clip, config.seed = run["optim.lr"], run["optim.clip"], run["seed"]
    alone = train.fit(config, tmp_path, log=lambda line: None).summary
    for split in ("valid", "test"):
        np.testing.assert_allclose(run[split]["mse"], alone[split]["mse"], rtol=2e-4)


def test_the_best_run_has_the_lowest_validation_error_among_runs_that_did_not_diverge(swept):
    finite = [r for r in swept["runs"] if r["diverged_at"] is None]
    assert swept["best"]["valid"]["mse"] == min(r["valid"]["mse"] for r in finite)


def test_a_diverging_run_is_marked_and_the_others_go_on(tmp_path):
    config = small_config()
    config.optim.name, config.optim.clip_mode = "sgd", "none"
    summary = sweep.fit(config, {"optim.lr": [1e-2, 1e30]}, 1, tmp_path, log=lambda line: None)
    stable, exploded = summary["runs"]
    assert stable["diverged_at"] is None and np.isfinite(stable["test"]["mse"])
    assert summary["best"]["optim.lr"] == 1e-2
    config.optim.lr = 1e30
    with pytest.raises(train.TrainingDivergedError, match=r"at step (\d+):") as raised:
        train.fit(config, tmp_path / "alone", log=lambda line: None)
    assert f"at step {exploded['diverged_at']}:" in str(raised.value)  # the same first bad step


@pytest.mark.network
def test_a_language_model_sweep_reports_bits_per_char(tmp_path):
    config = config_lib.load(str(ADDING_CONFIG.parent / "ptb.py") + ":quick,level=char")
    config.model.hidden_size, config.model.embed_size = 8, 4
    config.train.steps = config.train.eval_every = 2
    config.train.eval_batch_size = 500
    summary = sweep.fit(config, {"optim.lr": [1e-3, 1e-2]}, 1, tmp_path / "sweep", log=lambda line: None)
    for run in summary["runs"]:  # each run scores what the same config trained alone scores
        config.optim.lr = run["optim.lr"]
        alone = train.fit(config, tmp_path / f"lr{run['optim.lr']}", log=lambda line: None).summary
        assert run["test"]["bits_per_char"] == pytest.approx(alone["test"]["bits_per_char"], rel=1e-4)
    assert summary["best"] is not None


def test_a_task_whose_batch_shapes_vary_by_seed_cannot_sweep_several_seeds(tmp_path):
    config = config_lib.load(str(ADDING_CONFIG.parent / "tomita.py") + ":grammar=4,quick")
    config.model.hidden_size = 4
    with pytest.raises(ValueError, match=r"batches of different seeds differ in shape at step 1 .*--seeds 1"):
        sweep.fit(config, {}, 3, tmp_path, log=lambda line: None)


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"model.hidden_size": [8, 16]}, "cannot sweep 'model.hidden_size' in one compiled program"),
        ({"optim.lr": [-1.0]}, r"optim.lr values must be > 0, got -1.0"),
        ({"optim.lr": []}, "the grid of 'optim.lr' has no values"),
    ],
)
def test_a_grid_that_cannot_be_one_program_is_refused(grid, message):
    with pytest.raises(ValueError, match=message):
        sweep.expand_grid(small_config(), grid, 1)


def test_the_sweep_command_writes_sweep_json_and_names_the_best_run(tmp_path, capsys):
    code = cli.main(
        [
            "sweep",
            "--config",
            f"{ADDING_CONFIG}:T=6",
            "--workdir",
            str(tmp_path),
            "--grid",
            "optim.lr=1e-3,1e-2",
            "--seeds",
            "2",
            "--config.train.steps=20",
            "--config.train.eval_every=20",
            "--config.task.held_out_size=256",
            "--config.train.eval_batch_size=256",
        ]
    )
    assert code == 0
    assert "done: 4 runs x 20 steps" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "sweep.json").read_text())["runs"]) == 4
    assert (
        cli.main(["sweep", "--config", f"{ADDING_CONFIG}", "--workdir", str(tmp_path), "--grid", "optim.lr"])
        == 2
    )
    assert "must look like FIELD=V1,V2" in capsys.readouterr().err


def test_looping_over_runs_inside_the_program_gives_the_vmapped_results(swept, tmp_path):
    grid = {"optim.lr": [1e-3, 1e-2], "optim.clip": [1.0, 0.01]}
    mapped = sweep.fit(small_config(), grid, 2, tmp_path, execution="map", log=lambda line: None)
    for vmapped_run, mapped_run in zip(swept["runs"], mapped["runs"], strict=True):
        np.testing.assert_allclose(mapped_run["test"]["mse"], vmapped_run["test"]["mse"], rtol=2e-4)


def valid_mse(run, params):
    evaluate = run.eval_step()
    return steps.evaluate(evaluate, params, run.task.batches("valid", run.settings.eval_batch_size))["mse"]


def test_every_runs_final_and_best_parameters_are_kept_and_load_back(tmp_path):
    config = adding_config(seq_len=6, steps=30, lr=1e-2, log_every=10, eval_every=10)
    summary = sweep.fit(config, {"optim.lr": [3e-3, 3e-2]}, 1, tmp_path, log=lambda line: None)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    for index, result in enumerate(summary["runs"]):
        run, final = sweep.load_run(tmp_path, index, "final")
        assert run.config["optim"]["lr"] == result["optim.lr"]
        np.testing.assert_allclose(valid_mse(run, final), result["valid"]["mse"], rtol=1e-5)
        curve = {
            line["step"]: line["mse"] for line in lines if line["run"] == index and line["split"] == "valid"
        }
        assert result["best_step"] == min(curve, key=curve.get)
        _, best = sweep.load_run(tmp_path, index)
        np.testing.assert_allclose(valid_mse(run, best), curve[result["best_step"]], rtol=1e-5)
    with pytest.raises(ValueError, match=r"the sweep has runs 0 to 1, got index=2"):
        sweep.load_run(tmp_path, 2)


def test_a_field_that_only_decides_the_draw_is_swept_in_one_program_as_runs_trained_alone(tmp_path):
    config = small_config()
    grid = {"model.recurrent_init.gain": [0.5, 1.0]}
    summary = sweep.fit(config, grid, 1, tmp_path / "sweep", log=lambda line: None)
    for index, result in enumerate(summary["runs"]):
        alone_config = sweep.run_config(config, result)
        alone = train.fit(alone_config, tmp_path / f"alone{index}", log=lambda line: None).summary
        np.testing.assert_allclose(result["valid"]["mse"], alone["valid"]["mse"], rtol=2e-4)
        run, _ = sweep.load_run(tmp_path / "sweep", index)
        assert run.config["model"]["recurrent_init"]["gain"] == grid["model.recurrent_init.gain"][index]
    assert summary["runs"][0]["valid"]["mse"] != summary["runs"][1]["valid"]["mse"]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("model.hidden_size", "cannot sweep 'model.hidden_size' in one compiled program"),
        ("model.recurrent_init.name", "cannot sweep 'model.recurrent_init.name'"),
        (
            "model.recurrent_init.scale",
            "cannot sweep 'model.recurrent_init.scale': the config has no such field",
        ),
    ],
)
def test_a_field_that_changes_the_program_is_refused_naming_what_can_be_swept(field, message):
    with pytest.raises(ValueError, match=message):
        sweep.expand_grid(workdir_lib.as_dict(small_config()), {field: [1.0]}, 1)


RESUMABLE_GRID = {"optim.lr": [1e-2, 1e-1], "model.recurrent_init.gain": [0.5, 1.0]}


def resumable_config():
    config = adding_config(seq_len=8, steps=20, lr=1e-2, log_every=5, eval_every=5)
    config.train.checkpoint_every = 10
    return config


@pytest.fixture(scope="module")
def never_stopped(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("never_stopped")
    sweep.fit(resumable_config(), RESUMABLE_GRID, 2, workdir, log=lambda line: None)
    return workdir


def results_of(workdir):
    summary = json.loads((workdir / "sweep.json").read_text())
    params = np.load(workdir / "sweep_params.npz")
    lines = (workdir / "metrics.jsonl").read_text().splitlines()
    return summary["runs"], summary["best"], {name: params[name] for name in params.files}, lines


@pytest.mark.parametrize(
    ("stop_after", "number"), [(3, signal.SIGTERM), (10, signal.SIGINT), (17, signal.SIGTERM)]
)
def test_a_signalled_sweep_saves_its_step_and_resumes_to_the_results_of_one_never_stopped(
    never_stopped, tmp_path, monkeypatch, stop_after, number
):
    with monkeypatch.context() as patch:
        signal_at_step(patch, stop_after, number)
        with pytest.raises(
            StoppedError, match=rf"after step {stop_after}: the sweep's checkpoint is in"
        ) as stop:
            sweep.fit(resumable_config(), RESUMABLE_GRID, 2, tmp_path, log=lambda line: None)
    assert stop.value.exit_code == 128 + number and "--resume" in str(stop.value)
    assert checkpoint.latest_step(checkpoint.manager(tmp_path, keep=3)) == stop_after
    with pytest.raises(WorkdirError, match="already holds a sweep's checkpoints"):
        sweep.fit(resumable_config(), RESUMABLE_GRID, 2, tmp_path, log=lambda line: None)
    resumed = sweep.fit(resumable_config(), RESUMABLE_GRID, 2, tmp_path, resume=True, log=lambda line: None)
    assert resumed["resumed_from"] == stop_after
    runs, best, params, lines = results_of(tmp_path)
    expected_runs, expected_best, expected_params, expected_lines = results_of(never_stopped)
    assert runs == expected_runs and best == expected_best and lines == expected_lines
    assert params.keys() == expected_params.keys()
    assert all(np.array_equal(params[name], expected_params[name]) for name in params)


@pytest.mark.parametrize(
    ("grid", "seeds", "execution"),
    [({"optim.lr": [1e-3, 3e-2]}, 2, "vmap"), (RESUMABLE_GRID, 1, "vmap"), (RESUMABLE_GRID, 2, "map")],
)
def test_a_sweep_resumes_only_with_the_grid_seeds_and_execution_it_began_with(
    tmp_path, monkeypatch, grid, seeds, execution
):
    with monkeypatch.context() as patch:
        signal_at_step(patch, 3, signal.SIGTERM)
        with pytest.raises(StoppedError):
            sweep.fit(resumable_config(), RESUMABLE_GRID, 2, tmp_path, log=lambda line: None)
    with pytest.raises(WorkdirError, match="another grid, seeds or execution"):
        sweep.fit(resumable_config(), grid, seeds, tmp_path, execution=execution, resume=True, log=print)


def test_the_sweep_command_exits_143_on_sigterm_naming_the_step_and_resumes(tmp_path, monkeypatch, capsys):
    argv = [
        "sweep",
        "--config",
        f"{ADDING_CONFIG}:T=6",
        "--workdir",
        str(tmp_path),
        "--grid",
        "optim.lr=1e-3,1e-2",
    ]
    argv += ["--config.train.steps=20", "--config.train.eval_every=10", "--config.task.held_out_size=64"]
    with monkeypatch.context() as patch:
        signal_at_step(patch, 4, signal.SIGTERM)
        assert cli.main(argv) == 143
    assert "irnn-jax: stopped by SIGTERM after step 4: the sweep's checkpoint" in capsys.readouterr().err
    assert cli.main([*argv, "--resume"]) == 0
    assert json.loads((tmp_path / "sweep.json").read_text())["resumed_from"] == 4


def test_the_sweep_resumed_here_has_a_run_whose_best_point_comes_before_its_end(never_stopped):
    """Else a resume that forgot the best points before it would pass the test above."""
    runs, *_ = results_of(never_stopped)
    assert any(run["best_step"] < 20 for run in runs)
