"""A job of two cooperating processes on this machine: ``jax.distributed`` over 127.0.0.1 with
JAX's gloo CPU collectives, one CPU device per process, checked against one process."""

import contextlib
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
from jax.tree_util import keystr

from irnn_jax import cli
from irnn_jax import config as config_lib
from irnn_jax.core.errors import ConfigError
from irnn_jax.runtime import distributed
from irnn_jax.training import sweep, train

from .helpers import ADDING_CONFIG

TIMEOUT_S = 300  # a whole two-process job, start-up included
SMALL = (
    "task.held_out_size=64",
    "model.hidden_size=16",
    "train.log_every=10",
    "train.eval_every=20",
    "train.checkpoint_every=10",
    "train.eval_batch_size=32",
)
SPEC = f"{ADDING_CONFIG}:T=10"


def config_of(*assignments):
    """The small adding config with ``SMALL`` and then ``assignments`` applied."""
    config = config_lib.load(SPEC)
    for assignment in (*SMALL, *assignments):
        config_lib.override(config, assignment)
    return config


def command(name, workdir, *assignments, extra=()):
    """The ``irnn-jax NAME`` arguments that build ``config_of(*assignments)``."""
    overrides = [f"--config.{assignment}" for assignment in (*SMALL, *assignments)]
    return [name, "--config", str(SPEC), "--workdir", str(workdir), *overrides, *extra]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def job(arguments, processes=2):
    """``irnn-jax ARGUMENTS`` as a job of ``processes`` processes for the block; on leaving, any
    that still runs is killed and reaped, so a failing test leaves none behind."""
    coordinator = f"127.0.0.1:{free_port()}"
    children = []
    for index in range(processes):
        flags = ["--coordinator", coordinator, "--num-processes", str(processes), "--process-id", str(index)]
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "irnn_jax.cli", *arguments, *flags],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    try:
        yield children
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=60)
            child.stdout.close()


def run_job(arguments, processes=2):
    """Run a job to its end; the outputs of its processes (process 0's first)."""
    with job(arguments, processes) as children:
        outputs = [child.communicate(timeout=TIMEOUT_S)[0] for child in children]
        codes = [child.returncode for child in children]
    assert codes == [0] * processes, "\n---\n".join(outputs)
    return outputs


def assert_same_params(actual, expected):
    def close(path, actual_leaf, expected_leaf):
        np.testing.assert_allclose(actual_leaf, expected_leaf, rtol=1e-5, atol=1e-6, err_msg=keystr(path))

    jax.tree_util.tree_map_with_path(close, actual, expected)


def one_process_params(workdir, *assignments):
    """The final parameters of the same run in this (single) process."""
    return train.fit(config_of(*assignments), workdir, log=lambda message: None, progress="none").state.params


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_two_process_run_ends_where_a_one_process_run_does_and_only_process_0_writes(tmp_path):
    outputs = run_job(command("train", tmp_path / "job", "train.steps=40", "train.diagnostics_every=20"))
    alone = tmp_path / "alone"
    expected = one_process_params(alone, "train.steps=40", "train.diagnostics_every=20")

    assert_same_params(train.load(tmp_path / "job", log=lambda message: None).state.params, expected)
    assert "done: 40 steps" in outputs[0] and "done:" not in outputs[1]
    for name in ("metrics.jsonl", "diagnostics.jsonl"):  # written once, not once per process
        assert [(r["step"], r.get("split")) for r in lines(tmp_path / "job" / name)] == [
            (r["step"], r.get("split")) for r in lines(alone / name)
        ]


def test_a_two_process_sweep_spreads_its_runs_and_equals_a_one_process_sweep(tmp_path):
    arguments = ("train.steps=30", "train.eval_every=30")
    grid = ["--grid", "optim.lr=0.01,0.001"]
    outputs = run_job(command("sweep", tmp_path / "job", *arguments, extra=grid))
    expected = sweep.fit(config_of(*arguments), {"optim.lr": [0.01, 0.001]}, 1, tmp_path / "alone", log=print)

    assert "2 runs over 2 devices of 2 processes" in outputs[0]
    runs = json.loads((tmp_path / "job" / "sweep.json").read_text())["runs"]
    assert len(runs) == len(expected["runs"]) == 2
    for run, expected_run in zip(runs, expected["runs"], strict=True):
        assert run["optim.lr"] == expected_run["optim.lr"] and run["diverged_at"] is None
        for split in ("valid", "test"):
            assert run[split]["mse"] == pytest.approx(expected_run[split]["mse"], rel=1e-5)


def newest_checkpoint(workdir):
    steps = [int(path.name) for path in (workdir / "checkpoints").glob("*") if path.name.isdigit()]
    return max(steps, default=-1)


def test_a_killed_two_process_run_resumed_by_two_processes_or_by_one_ends_where_an_uninterrupted_run_does(
    tmp_path,
):
    workdir, arguments = tmp_path / "job", ("train.steps=100", "train.eval_every=50")
    with job(command("train", workdir, *arguments)) as children:
        deadline = time.monotonic() + TIMEOUT_S
        while newest_checkpoint(workdir) < 30 and time.monotonic() < deadline:
            assert all(child.poll() is None for child in children), "the job ended before it was killed"
            time.sleep(0.02)
        for child in children:
            child.kill()
    killed_at = newest_checkpoint(workdir)
    assert 30 <= killed_at < 100
    shutil.copytree(workdir, tmp_path / "by_one")

    outputs = run_job(command("train", workdir, *arguments, extra=["--resume"]))
    by_one = train.fit(config_of(*arguments), tmp_path / "by_one", resume=True, log=print, progress="none")

    assert f"resuming from the checkpoint of step {killed_at}" in outputs[0]
    expected = one_process_params(tmp_path / "alone", *arguments)
    assert_same_params(train.load(workdir, log=lambda message: None).state.params, expected)
    assert_same_params(by_one.state.params, expected)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--num-processes", "2"], "missing --coordinator, --process-id"),
        (
            ["--distributed", "--process-id", "0"],
            "--distributed detects the cluster by itself; drop --process-id",
        ),
        (
            ["--coordinator", "localhost", "--num-processes", "2", "--process-id", "0"],
            "HOST:PORT, got 'localhost'",
        ),
        (["--coordinator", "h:1", "--num-processes", "0", "--process-id", "0"], "positive int, got 0"),
        (
            ["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
            r"in \[0, 1\] for 2 processes, got 2",
        ),
    ],
)
def test_bad_job_flags_print_one_error_naming_them(tmp_path, capsys, flags, message):
    code = cli.main(command("train", tmp_path, "train.steps=2") + flags)

    err = capsys.readouterr().err
    assert code == 2 and err.startswith("irnn-jax: error: ") and err.count("\n") == 1
    assert re.search(message, err), err


def test_distributed_without_a_cluster_to_detect_says_it_could_not_join(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "irnn_jax.cli", *command("train", tmp_path, "train.steps=2"), "--distributed"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )

    assert result.returncode == 2
    assert "irnn-jax: error: could not join the multi-process job" in result.stderr


def test_initialize_names_the_missing_flags_before_touching_jax():
    with pytest.raises(ConfigError, match="missing --num-processes, --process-id"):
        distributed.initialize("127.0.0.1:1234")


def test_a_sigterm_to_one_process_stops_the_whole_job_at_one_checkpointed_step_and_two_processes_resume_it(
    tmp_path,
):
    workdir, arguments = tmp_path / "job", ("train.steps=100", "train.eval_every=50")
    with job(command("train", workdir, *arguments)) as children:
        deadline = time.monotonic() + TIMEOUT_S
        while newest_checkpoint(workdir) < 10 and time.monotonic() < deadline:
            assert all(child.poll() is None for child in children), "the job ended before it was signalled"
            time.sleep(0.02)
        children[1].send_signal(signal.SIGTERM)  # the other process gets no signal
        outputs = [child.communicate(timeout=TIMEOUT_S)[0] for child in children]
        codes = [child.returncode for child in children]
    assert codes == [143, 143], "\n---\n".join(outputs)
    stopped = [re.search(r"stopped by SIGTERM after step (\d+)", output) for output in outputs]
    assert all(stopped), "\n---\n".join(outputs)
    step = int(stopped[0].group(1))
    assert int(stopped[1].group(1)) == step and step % 10 == 0 and 10 < step < 100  # at a log window's end
    assert newest_checkpoint(workdir) == step
    outputs = run_job(command("train", workdir, *arguments, extra=["--resume"]))
    assert f"resuming from the checkpoint of step {step}" in outputs[0]
    expected = one_process_params(tmp_path / "alone", *arguments)
    assert_same_params(train.load(workdir, log=lambda message: None).state.params, expected)
