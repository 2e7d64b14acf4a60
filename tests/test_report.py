import json
import subprocess
import sys

import matplotlib.image
import pytest

from irnn_jax import cli
from irnn_jax.core.errors import WorkdirError
from irnn_jax.reproduce import report

from .helpers import ADDING_CONFIG


def train_tiny(workdir, seq_len, seed, *extra):
    argv = [
        "train",
        "--config",
        f"{ADDING_CONFIG}:T={seq_len}",
        "--workdir",
        str(workdir),
        "--config.task.held_out_size=256",
        "--config.train.steps=20",
        "--config.train.eval_every=10",
        "--config.train.eval_batch_size=256",
        f"--config.seed={seed}",
        *extra,
    ]
    assert cli.main(argv) == 0
    return argv


def test_report_collects_runs_and_writes_tables_and_figures_from_them(tmp_path, capsys):
    argv = train_tiny(tmp_path / "runs" / "a", 6, 0, "--config.train.diagnostics_every=10")
    train_tiny(tmp_path / "runs" / "b", 8, 1)
    results, output, figures = tmp_path / "results", tmp_path / "RESULTS.md", tmp_path / "figures"
    code = cli.main(
        [
            "report",
            "--collect",
            str(tmp_path / "runs" / "a"),
            str(tmp_path / "runs" / "b"),
            "--results",
            str(results),
            "--output",
            str(output),
            "--figures",
            str(figures),
        ]
    )
    assert code == 0
    record = json.loads((results / "a.json").read_text())
    assert record["command"].startswith("irnn-jax train --config") and "--config.seed=0" in record["command"]
    assert record["command"].split()[1:] == argv
    assert [point["step"] for point in record["curve"] if point["split"] == "test"] == [0, 10, 20]
    text = output.read_text()
    assert "## Adding problem" in text and "Paper: compares models at T = 150-400" in text
    assert f"{record['test']['mse']:.5g}" in text and "![adding](figures/adding.png)" in text
    image = matplotlib.image.imread(figures / "adding.png")
    assert image.shape[1] > 2 * image.shape[0]  # two panels side by side: T = 6 and T = 8
    assert [snapshot["step"] for snapshot in record["diagnostics"]] == [0, 10, 20]
    assert "## Diagnostics" in text and "figures/diagnostics_a.png" in text
    assert matplotlib.image.imread(figures / "diagnostics_a.png").shape[1] > 3 * 300
    capsys.readouterr()


def test_collecting_a_directory_without_a_finished_run_is_an_error(tmp_path):
    with pytest.raises(WorkdirError, match=r"has no summary\.json: not a finished run"):
        report.collect(tmp_path)


def test_collecting_a_sweep_says_it_is_a_sweep_and_how_to_collect_its_chosen_run(tmp_path):
    (tmp_path / "sweep.json").write_text("{}")
    with pytest.raises(WorkdirError, match=r"holds a sweep \(sweep\.json\), not one run.*irnn-jax train"):
        report.collect(tmp_path)


def test_a_run_is_read_back_from_a_path_given_as_a_string(tmp_path):
    train_tiny(tmp_path / "run", 6, 0)
    as_text = report.read_curve(str(tmp_path / "run"), "mse")
    assert as_text == report.read_curve(tmp_path / "run", "mse") and len(as_text) == 6
    assert report.read_diagnostics(str(tmp_path / "run")) == []


def test_a_report_of_your_own_runs_names_your_records_and_tells_the_curves_apart(tmp_path):
    for seed in (0, 1):
        train_tiny(tmp_path / "runs" / f"r{seed}", 5, seed, "--config.model.hidden_size=16")
    results, output, figures = tmp_path / "mine", tmp_path / "MINE.md", tmp_path / "figures"
    argv = ["report", "--collect", str(tmp_path / "runs" / "r0"), str(tmp_path / "runs" / "r1")]
    argv += ["--results", str(results), "--output", str(output), "--figures", str(figures)]
    assert cli.main(argv) == 0
    text = output.read_text()
    assert f"from `{results}/*.json`" in text and "T=100" not in text and "2-core" not in text
    records = [json.loads((results / f"r{seed}.json").read_text()) for seed in (0, 1)]
    assert report.distinguishing_labels(records) == ["seed=0", "seed=1"]
    height, width = matplotlib.image.imread(figures / "adding.png").shape[:2]
    assert width > 500 and height > 400  # one whole panel, its legend below it


def test_importing_the_report_and_studies_leaves_matplotlibs_backend_to_the_user():
    code = (
        "import matplotlib; matplotlib.use('svg'); "
        "import irnn_jax.reproduce.report, irnn_jax.reproduce.studies.mnist, "
        "irnn_jax.reproduce.studies.adding, irnn_jax.reproduce.studies.init_comparison; "
        "print(matplotlib.get_backend())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "svg", done.stderr
