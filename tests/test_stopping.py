"""SIGTERM and SIGINT stop a run after the step in flight, which is checkpointed and logged; the
resumed run ends bit-identical to one never stopped, also when a second signal cuts the save."""

import json
import re
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irnn_jax import config as config_lib
from irnn_jax.runtime import stopping
from irnn_jax.training import checkpoint, train

from .helpers import ADDING_CONFIG, run_child

STEPS = 400
OVERRIDES = [
    "task.held_out_size=64",
    f"train.steps={STEPS}",
    "train.log_every=1",  # a log line per step: the parent sees where the child is
    "train.eval_every=100",
    "train.eval_batch_size=64",
    "train.checkpoint_every=100",
]
# The child: the command line, its log writes paced (10 ms a line) so that a signal lands mid-run.
PACED_CLI = """
import sys, time
from irnn_jax import cli
from irnn_jax.training import run_log
write = run_log.RunLog.write
def paced(self, record):
    write(self, record)
    time.sleep(0.01)
run_log.RunLog.write = paced
sys.exit(cli.main(sys.argv[1:]))
"""


def tiny_config():
    config = config_lib.load(f"{ADDING_CONFIG}:T=8")
    for assignment in OVERRIDES:
        config_lib.override(config, assignment)
    return config


def params_of(state):
    return [np.asarray(leaf) for leaf in jax.tree.leaves(state.params)]


_REFERENCE = {}


def reference_params(directory):
    """The final parameters of the run never stopped (trained once per test session)."""
    if "params" not in _REFERENCE:
        _REFERENCE["params"] = params_of(train.fit(tiny_config(), directory, log=lambda line: None).state)
    return _REFERENCE["params"]


def logged_train_step(workdir):
    """The step of the last whole train line of the run's log (0 before the first)."""
    path = workdir / "metrics.jsonl"
    steps = [0]
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record["split"] == "train":
            steps.append(record["step"])
    return steps[-1]


def signal_at(workdir, after_step, signals):
    """Run the paced command line in ``workdir``, send ``signals`` (``(signal, delay_s)`` pairs)
    once it has logged ``after_step``; return its exit status and its error output."""
    argv = [sys.executable, "-c", PACED_CLI, "train", "--config", f"{ADDING_CONFIG}:T=8"]
    argv += ["--workdir", str(workdir), "--progress", "none", *[f"--config.{item}" for item in OVERRIDES]]
    with run_child(argv, stderr=subprocess.PIPE) as process:
        deadline = time.monotonic() + 300
        while logged_train_step(workdir) < after_step:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, f"step {after_step} not logged within 5 minutes"
            time.sleep(0.005)
        for number, delay in signals:
            time.sleep(delay)
            process.send_signal(number)
        code = process.wait(timeout=300)
        return code, process.stderr.read().decode()


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(after_step=st.integers(1, STEPS - 50), number=st.sampled_from([signal.SIGTERM, signal.SIGINT]))
def test_a_signalled_run_saves_the_step_it_reached_and_resumes_to_the_parameters_of_one_never_stopped(
    after_step, number, tmp_path_factory
):
    workdir = tmp_path_factory.mktemp("signalled")
    code, error = signal_at(workdir, after_step, [(number, 0.0)])
    name = signal.Signals(number).name
    assert code == 128 + number, error
    stopped = re.search(rf"irnn-jax: stopped by {name} after step (\d+): its checkpoint is in ", error)
    assert stopped, error
    step = int(stopped.group(1))
    assert after_step <= step < STEPS and "continue with --resume" in error
    assert checkpoint.latest_step(checkpoint.manager(workdir, keep=3)) == step
    assert logged_train_step(workdir) == step  # the log reaches the saved step
    resumed = train.fit(tiny_config(), workdir, resume=True, log=lambda line: None)
    assert resumed.summary["resumed_from"] == step
    reference = reference_params(tmp_path_factory.mktemp("reference"))
    assert all(np.array_equal(a, b) for a, b in zip(params_of(resumed.state), reference, strict=True))


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(after_step=st.integers(1, STEPS - 50), delay=st.floats(0.0, 0.05))
def test_a_second_sigterm_stops_at_once_and_an_earlier_checkpoint_still_resumes_to_the_same_end(
    after_step, delay, tmp_path_factory
):
    workdir = tmp_path_factory.mktemp("twice")
    code, error = signal_at(workdir, after_step, [(signal.SIGTERM, 0.0), (signal.SIGTERM, delay)])
    assert code == 128 + signal.SIGTERM, error
    resumed = train.fit(tiny_config(), workdir, resume=True, log=lambda line: None)
    reference = reference_params(tmp_path_factory.mktemp("reference"))
    assert all(np.array_equal(a, b) for a, b in zip(params_of(resumed.state), reference, strict=True))
    assert not list(workdir.rglob("*orbax-checkpoint-tmp*"))


def test_the_handlers_are_restored_after_the_block_and_a_request_names_its_signal():
    before = signal.getsignal(signal.SIGTERM)
    lines = []
    with stopping.catching(lines.append) as request:
        assert not request.due(window_ends=True)
        signal.raise_signal(signal.SIGTERM)
        assert request.requested and request.due(window_ends=False)
        error = request.stopped(12, "saved", "resume")
    assert signal.getsignal(signal.SIGTERM) is before
    assert (error.exit_code, error.step, error.signal_name) == (143, 12, "SIGTERM")
    assert str(error) == "stopped by SIGTERM after step 12: saved; resume"
    assert lines == ["SIGTERM received: stopping after the step in flight, which is checkpointed first"]


def test_a_second_signal_stops_at_once():
    with stopping.catching(lambda line: None), pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
    with stopping.catching(lambda line: None), pytest.raises(SystemExit) as stopped:
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)
    assert stopped.value.code == 143
