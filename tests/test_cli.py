import importlib.metadata
import json
import subprocess
import sys

import pytest

from irnn_jax import cli
from irnn_jax.core import initializers

from .helpers import ADDING_CONFIG

TINY = [
    "--config.task.held_out_size=64",
    "--config.train.steps=20",
    "--config.train.log_every=10",
    "--config.train.eval_every=20",
    "--config.train.eval_batch_size=64",
]


def test_train_runs_a_config_with_overrides_and_reports_the_test_metric(tmp_path, capsys):
    code = cli.main(
        [
            "train",
            "--config",
            f"{ADDING_CONFIG}:T=5",
            "--workdir",
            str(tmp_path),
            *TINY,
            "--config.optim.lr",
            "0.001",
        ]
    )
    assert code == 0
    assert "done: 20 steps" in capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["optim"]["lr"] == 0.001 and summary["config"]["task"]["seq_len"] == 5


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--config.model.cell=gelu"], "unknown model.cell .gelu.; allowed: irnn, rnn_relu, rnn_tanh, lstm"),
        (["--config.model.forget_bias=big"], "config field .model.forget_bias. is a float"),
        (["--config.model.layers=0"], "model.layers must be a positive int"),
        (["--config.model.recurrent_init.name=eye"], "unknown initializer 'eye'"),
        (["--config.optim.name=lbfgs"], "unknown optimizer 'lbfgs'"),
        (["--config.optim.lr=fast"], "config field 'optim.lr' is a float"),
        (["--config.task.seq_len=1"], r"seq_len \(T\) an int >= 2, got seq_len=1"),
        (["--config.train.batch_size=0"], "train.batch_size must be a positive int"),
        (["--config.model.hidden_size=-2"], "hidden_size must be a positive int"),
        (["--config.nope=1"], "unknown config field 'nope'"),
        (["--config.optim.lr"], "needs a value"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_prints_one_error_line_and_exits_2(tmp_path, capsys, extra, message):
    code = cli.main(["train", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(tmp_path), *TINY, *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("irnn-jax: error: ") and err.count("\n") == 1
    assert __import__("re").search(message, err), err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fly"],
        ["train", "--workdir", "x"],
        ["train", "--config", "nowhere.py", "--workdir", "x"],
        ["train", "--config", f"{ADDING_CONFIG}:L=3", "--workdir", "x"],
    ],
)
def test_malformed_command_lines_exit_2_without_a_traceback(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("irnn-jax: error: ") and "Traceback" not in err


def test_the_console_entry_point_prints_no_traceback_on_bad_input(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "irnn_jax.cli",
            "train",
            "--config",
            f"{ADDING_CONFIG}:T=1",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,  # a loaded 2-core machine starts jax slowly
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "irnn-jax: error: the adding problem needs seq_len (T) an int >= 2, got seq_len=1"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["data", "fetch", "cifar10"],
            "unknown dataset 'cifar10'; known datasets: bible_es_en, fsdd, japanese_vowels, mnist, ptb",
        ),
        (["data", "download"], "invalid choice: 'download'"),
        (["data", "list", "--config.seed=1"], "config overrides apply to 'train' and 'sweep' only"),
    ],
)
def test_bad_data_commands_exit_2_with_one_line(capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_translate_refuses_a_directory_that_is_no_translation_run(tmp_path, capsys):
    assert cli.main(["translate", str(tmp_path), "hola"]) == 2
    assert "is not a run's workdir" in capsys.readouterr().err
    assert cli.main(["train", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(tmp_path), *TINY]) == 0
    capsys.readouterr()
    assert cli.main(["translate", str(tmp_path), "hola"]) == 2
    err = capsys.readouterr().err
    assert "is a run of AddingProblem, not of Translation" in err and err.count("\n") == 1


def test_a_diverging_run_stops_with_one_line_naming_the_step_and_exit_code_1(tmp_path, capsys):
    argv = ["train", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(tmp_path), *TINY]
    argv += ["--config.optim.name=sgd", "--config.optim.lr=1e30", "--config.optim.clip_mode=none"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("irnn-jax: training stopped: non-finite training at step ") and err.count("\n") == 1


def test_data_fetch_then_verify_reports_ok_and_exits_0(toy_dataset, capsys):
    assert cli.main(["data", "fetch", "toy"]) == 0
    assert cli.main(["data", "verify", "toy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("toy: ok (") for line in lines)


def test_data_verify_exits_1_for_a_dataset_never_fetched_naming_the_repair(toy_dataset, capsys):
    assert cli.main(["data", "verify", "toy"]) == 1
    assert capsys.readouterr().out.strip().endswith("missing); run `irnn-jax data fetch toy`")
    assert cli.main(["data", "list", "toy"]) == 0  # listing is not a check


def test_data_verify_exits_1_for_a_corrupt_cache_file_and_fetch_repairs_it(toy_dataset, tmp_path, capsys):
    assert cli.main(["data", "fetch", "toy"]) == 0
    (tmp_path / "toy.npz").write_bytes(b"damaged")
    assert cli.main(["data", "verify"]) == 1  # all datasets: the others were never fetched here
    out = capsys.readouterr().out
    assert "toy: CORRUPT (" in out and "run `irnn-jax data fetch toy` to rebuild it" in out
    assert cli.main(["data", "fetch", "toy"]) == 0 and cli.main(["data", "verify", "toy"]) == 0


@pytest.mark.parametrize("error", [TypeError("bug"), KeyError("bug"), ValueError("bug")])
def test_an_error_that_is_not_bad_input_surfaces_with_its_traceback(tmp_path, monkeypatch, error):
    from irnn_jax.training import train

    def broken_fit(*args, **kwargs):
        raise error

    monkeypatch.setattr(train, "fit", broken_fit)
    with pytest.raises(type(error), match="bug"):
        cli.main(["train", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(tmp_path), *TINY])


def test_a_model_too_large_for_memory_is_refused_before_allocating(tmp_path, capsys):
    argv = ["train", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(tmp_path), *TINY]
    assert cli.main([*argv, "--config.model.hidden_size=100000000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("irnn-jax: error: model.hidden_size=100000000, train.batch_size=16: training needs")
    assert "more than the" in err and err.count("\n") == 1


@pytest.mark.parametrize("name", initializers.names())
def test_every_registered_initialiser_trains_two_steps_from_the_command_line(tmp_path, capsys, name):
    argv = ["train", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(tmp_path), *TINY]
    argv += [f"--config.model.recurrent_init.name={name}", "--config.model.hidden_size=8"]
    argv += ["--config.train.steps=2", "--config.train.log_every=1", "--config.train.eval_every=2"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["model"]["recurrent_init"]["name"] == name


def test_version_prints_the_installed_version_and_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"irnn-jax {importlib.metadata.version('irnn_jax')}"
