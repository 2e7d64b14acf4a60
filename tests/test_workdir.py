import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys

import pytest

from irnn_jax import cli
from irnn_jax.core.errors import WorkdirError
from irnn_jax.training import workdir

from .helpers import ADDING_CONFIG, run_child

TINY = [
    "--config.task.held_out_size=64",
    "--config.train.steps=20",
    "--config.train.log_every=10",
    "--config.train.eval_every=10",
    "--config.train.eval_batch_size=64",
]


def train_argv(path, *extra):
    return ["train", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(path), *TINY, *extra]


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.startswith("irnn-jax: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "argv",
    [
        lambda path: train_argv(path),
        lambda path: train_argv(path, "--resume"),
        lambda path: ["sweep", "--config", f"{ADDING_CONFIG}:T=5", "--workdir", str(path), *TINY],
    ],
    ids=["train", "resume", "sweep"],
)
def test_a_run_on_a_workdir_held_by_another_run_is_refused_naming_the_holder(tmp_path, capsys, argv):
    with workdir.lock(tmp_path, log=lambda line: None):
        assert cli.main(argv(tmp_path)) == 2
    err = one_error_line(capsys)
    assert f"is in use by another run (pid {os.getpid()} on host {socket.gethostname()})" in err
    assert not (tmp_path / "metrics.jsonl").exists()


def test_the_lock_of_a_killed_run_is_taken_over_with_a_note(tmp_path):
    holder = (
        "import pathlib, sys, time\nfrom irnn_jax.training import workdir\n"
        f"held = workdir.lock(pathlib.Path({str(tmp_path)!r}))\nheld.__enter__()\n"
        "print('held', flush=True)\ntime.sleep(120)\n"
    )
    with run_child([sys.executable, "-c", holder], stdout=subprocess.PIPE) as child:
        assert child.stdout.readline() == b"held\n"
        pid = child.pid
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    notes = []
    with workdir.lock(tmp_path, log=notes.append):
        held_by = json.loads((tmp_path / "lock").read_text())
    assert notes == [
        f"note: took over the lock of {tmp_path} left by a run that no longer holds it "
        f"(pid {pid} on host {socket.gethostname()})"
    ]
    assert held_by["pid"] == os.getpid()
    with workdir.lock(tmp_path, log=notes.append):  # released cleanly: no second note
        pass
    assert len(notes) == 1


def test_a_second_train_process_started_on_a_running_workdir_exits_2_with_one_line(tmp_path):
    command = [sys.executable, "-m", "irnn_jax.cli", *train_argv(tmp_path)]
    first_argv = [*command, "--config.train.steps=100000"]
    with run_child(first_argv, stderr=subprocess.DEVNULL, stdout=subprocess.PIPE) as first:
        first.stdout.readline()  # the run's description: it holds the lock by now
        second = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"in use by another run (pid {first.pid} on host" in lines[0], lines


def test_resume_with_a_config_that_changes_the_run_lists_the_changed_fields_in_one_line(tmp_path, capsys):
    assert cli.main(train_argv(tmp_path)) == 0
    capsys.readouterr()
    changed = ["--config.model.hidden_size=50", "--config.optim.name=adam", "--config.seed=3"]
    assert cli.main(train_argv(tmp_path, "--resume", *changed)) == 2
    err = one_error_line(capsys)
    assert "model.hidden_size 100 -> 50; optim.name 'sgd' -> 'adam'; seed 0 -> 3." in err
    assert "Traceback" not in err


def test_resume_may_extend_the_budget_and_change_the_bookkeeping(tmp_path, capsys):
    assert cli.main(train_argv(tmp_path)) == 0
    extended = ["--config.train.steps=30", "--config.train.log_every=5", "--config.train.eval_every=15"]
    assert cli.main(train_argv(tmp_path, "--resume", *extended)) == 0
    assert "done: 30 steps" in capsys.readouterr().out
    assert json.loads((tmp_path / "config.json").read_text())["train"]["steps"] == 30


def test_every_field_a_resume_may_change_is_a_train_field_that_exists():
    from irnn_jax.config import train_section

    names = {f"train.{name}" for name in train_section(1, 1, 1)}
    assert set(workdir.RESUMABLE_FIELDS) <= names
    assert "train.batch_size" not in workdir.RESUMABLE_FIELDS  # it changes the data stream


def test_a_workdir_that_names_a_file_is_one_error_line(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    assert cli.main(train_argv(path)) == 2
    assert "is a file, not a directory" in one_error_line(capsys)
    assert path.read_text() == "mine"


def test_prepare_refuses_a_path_below_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(WorkdirError, match="a part of the path is a file"):
        workdir.prepare(tmp_path / "file" / "run")


def test_the_readme_lists_exactly_the_fields_a_resume_may_change():
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    paragraph = readme[readme.index("`--resume` may change only") :].split("; any other change")[0]
    assert re.findall(r"`(train\.\w+)`", paragraph) == list(workdir.RESUMABLE_FIELDS)
