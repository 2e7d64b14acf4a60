import json
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irnn_jax import cli
from irnn_jax.core.errors import WorkdirError
from irnn_jax.training import checkpoint, train

from .helpers import ADDING_CONFIG, adding_config, run_child

TINY_RESUMABLE = [
    "task.held_out_size=64",
    "optim.name=adam",
    "optim.lr=0.001",
    "train.log_every=10",
    "train.eval_every=10",
    "train.eval_batch_size=64",
    "train.checkpoint_every=10",
]


def final_params(workdir, step):
    """The parameters of the checkpoint of ``step`` in ``workdir``, as numpy arrays."""
    manager = checkpoint.manager(workdir, keep=10)
    restored = manager.restore(step)
    return jax.tree.map(np.asarray, restored["params"] if isinstance(restored, dict) else restored.params)


def assert_bit_identical(first, second):
    pairs = zip(jax.tree.leaves(first), jax.tree.leaves(second), strict=True)
    assert all(np.array_equal(a, b) for a, b in pairs)


def resumable_config(steps):
    config = adding_config(seq_len=20, steps=steps, lr=1e-3, log_every=100, eval_every=steps)
    config.train.checkpoint_every = 200
    return config


def test_a_run_killed_with_sigkill_and_resumed_ends_bit_identical_to_an_uninterrupted_run(tmp_path):
    steps = 3000
    reference = train.fit(resumable_config(steps), tmp_path / "reference", log=lambda line: None).summary
    overrides = [
        "--config.task.held_out_size=512",
        "--config.optim.name=adam",
        "--config.optim.lr=0.001",
        f"--config.train.steps={steps}",
        "--config.train.log_every=100",
        f"--config.train.eval_every={steps}",
        "--config.train.eval_batch_size=256",
        "--config.train.checkpoint_every=200",
    ]
    workdir = tmp_path / "killed"
    command = [sys.executable, "-m", "irnn_jax.cli", "train", "--config", f"{ADDING_CONFIG}:T=20"]
    with run_child([*command, "--workdir", str(workdir), *overrides], stderr=subprocess.PIPE) as process:
        deadline = time.monotonic() + 600
        while not (workdir / "checkpoints" / "1000").is_dir():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint of step 1000 within 10 minutes"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = checkpoint.latest_step(checkpoint.manager(workdir, keep=10))
    assert 1000 <= killed_at < steps  # killed part-way
    lines = []
    resumed = train.fit(resumable_config(steps), workdir, resume=True, log=lines.append).summary
    assert f"resuming from the checkpoint of step {killed_at}" in lines
    assert resumed["resumed_from"] == killed_at
    assert resumed["test"] == reference["test"]
    assert_bit_identical(final_params(workdir, steps), final_params(tmp_path / "reference", steps))
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    for split in ("train", "valid", "test"):  # lines after the checkpoint were not repeated
        logged = [record["step"] for record in records if record["split"] == split]
        assert logged == sorted(set(logged))


def test_checkpoints_are_kept_to_the_last_k(tmp_path):
    config = resumable_config(1000)
    config.train.keep_checkpoints = 2
    train.fit(config, tmp_path, log=lambda line: None)
    assert checkpoint.manager(tmp_path, keep=2).all_steps() == [800, 1000]


def test_a_workdir_with_checkpoints_is_not_overwritten_without_resume(tmp_path):
    config = resumable_config(200)
    train.fit(config, tmp_path, log=lambda line: None)
    resume_hint = r"resume it \(--resume, or fit\(\.\.\., resume=True\)\)"
    with pytest.raises(WorkdirError, match=r"already holds checkpoints \(latest step 200\); " + resume_hint):
        train.fit(config, tmp_path, log=lambda line: None)


def diverging_config():
    config = adding_config(seq_len=6, steps=40, name="sgd", lr=1e4, log_every=10, eval_every=40)
    config.optim.clip_mode = "none"
    config.train.checkpoint_every = 10
    return config


def test_divergence_stops_naming_the_step_and_gradients_and_keeps_the_last_good_checkpoint(tmp_path):
    config = diverging_config()
    config.optim.lr = 1e30
    with pytest.raises(train.TrainingDivergedError) as raised:
        train.fit(config, tmp_path, log=lambda line: None)
    message = str(raised.value)
    assert message.startswith("non-finite training at step 1: loss=") and "param_l2=inf" in message
    manager = checkpoint.manager(tmp_path, keep=3)
    assert manager.all_steps() == [0]
    restored = final_params(tmp_path, 0)
    np.testing.assert_array_equal(restored["rnn"]["layer_0"]["w_hh"], np.eye(100))
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(restored))


def test_the_divergence_message_names_the_parameters_with_non_finite_gradients():
    from irnn_jax import models, tasks
    from irnn_jax.training import optim, run_log

    config = diverging_config()
    task = tasks.from_config(config.task)
    model = models.from_config(config.model, task.output_size)
    tx = optim.make_optimizer(config.optim)
    inputs, targets = next(task.batches("train", 4, jax.random.PRNGKey(0)))
    state = train.create_train_state(model, tx, jax.random.PRNGKey(1), inputs)
    inputs = inputs.at[0, 0, 0].set(np.nan)  # one NaN input value
    _, metrics = train.make_train_step(model.apply, task.loss_and_metrics, tx)(state, (inputs, targets))
    names = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(state.params)[0]]
    with pytest.raises(train.TrainingDivergedError) as raised:
        run_log.check_finite(run_log.stack([metrics]), 7, names)
    message = str(raised.value)
    assert (
        "at step 7" in message and "['rnn']['layer_0']['w_ih']" in message.split("non-finite gradients:")[1]
    )


def test_rollback_restarts_from_the_last_checkpoint_with_a_lower_learning_rate(tmp_path):
    config = diverging_config()
    config.train.on_divergence = "rollback"
    config.train.rollback_lr_factor = 0.01
    config.train.max_rollbacks = 4
    lines = []
    summary = train.fit(config, tmp_path, log=lines.append).summary
    assert summary["rollbacks"] >= 1
    assert np.isfinite(summary["test"]["mse"])
    rollbacks = [
        json.loads(line)
        for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
        if '"rollback"' in line
    ]
    assert [record["learning_rate"] for record in rollbacks] == pytest.approx(
        [1e4 * 0.01 ** (n + 1) for n in range(len(rollbacks))]
    )
    assert any("rolled back to step" in line for line in lines)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train_steps = [record["step"] for record in records if record["split"] == "train"]
    assert train_steps == sorted(set(train_steps))  # the diverged attempts' lines were dropped


def test_a_resumed_run_counts_the_rollbacks_made_before_it(tmp_path):
    config = diverging_config()
    config.train.on_divergence = "rollback"
    config.train.rollback_lr_factor = 0.01
    config.train.max_rollbacks = 4
    first = train.fit(config, tmp_path, log=lambda line: None).summary
    assert first["rollbacks"] >= 1
    resumed = train.fit(config, tmp_path, resume=True, log=lambda line: None).summary
    assert resumed["resumed_from"] == config.train.steps and resumed["rollbacks"] == first["rollbacks"]


def small_state(scale):
    return train.TrainState(
        step=jnp.int32(scale),
        params={"w": jnp.full((2, 3), scale, jnp.float32)},
        opt_state={"m": jnp.zeros(4)},
    )


@pytest.fixture(scope="module")
def three_checkpoints(tmp_path_factory):
    """A workdir with the checkpoints of steps 1, 2 and 3 (and their digests)."""
    workdir = tmp_path_factory.mktemp("three")
    manager = checkpoint.manager(workdir, keep=3)
    for step in (1, 2, 3):
        checkpoint.save(manager, step, small_state(step))
    return workdir


def damage(path, kind, offset):
    """Flip one byte at ``offset``, cut the file there, or delete it."""
    content = path.read_bytes()
    if kind == "delete":
        path.unlink()
    elif kind == "truncate":
        path.write_bytes(content[: offset % max(len(content), 1)])
    else:
        flipped = bytearray(content or b"\0")
        flipped[offset % len(flipped)] ^= 0xFF
        path.write_bytes(bytes(flipped))


@settings(max_examples=25)
@given(data=st.data(), kind=st.sampled_from(["flip", "truncate", "delete"]))
def test_a_damaged_latest_checkpoint_is_set_aside_and_the_previous_one_restored(
    three_checkpoints, data, kind
):
    with tempfile.TemporaryDirectory() as scratch:
        workdir = pathlib.Path(shutil.copytree(three_checkpoints, pathlib.Path(scratch) / "run"))
        files = sorted(path for path in (workdir / "checkpoints" / "3").rglob("*") if path.is_file())
        target = data.draw(st.sampled_from(files), label="file")
        damage(target, kind, data.draw(st.integers(0, 1 << 20), label="offset"))
        manager = checkpoint.manager(workdir, keep=3)
        lines = []
        step, state = checkpoint.restore_latest(manager, small_state(0), lines.append)
        assert step == 2 and np.all(state.params["w"] == 2)
        assert len(lines) == 1 and lines[0].startswith("the checkpoint of step 3 does not restore: ")
        (moved,) = (workdir / checkpoint.SET_ASIDE_DIR).iterdir()
        assert moved.name.startswith("3-") and (
            moved / target.relative_to(workdir / "checkpoints" / "3")
        ).exists() == (kind != "delete")
        assert manager.all_steps() == [1, 2]


def test_when_no_checkpoint_restores_the_error_says_so_and_nothing_is_deleted(three_checkpoints, tmp_path):
    workdir = pathlib.Path(shutil.copytree(three_checkpoints, tmp_path / "run"))
    for step in (1, 2, 3):
        damage(workdir / "checkpoints" / str(step) / "_CHECKPOINT_METADATA", "flip", 5)
    with pytest.raises(WorkdirError, match=r"none of the 3 checkpoints in .* restores \(all moved to"):
        checkpoint.restore_latest(checkpoint.manager(workdir, keep=3), small_state(0), lambda line: None)
    assert len(list((workdir / checkpoint.SET_ASIDE_DIR).iterdir())) == 3


def test_a_checkpoint_of_another_model_is_refused_by_shape_and_not_set_aside(three_checkpoints, tmp_path):
    workdir = pathlib.Path(shutil.copytree(three_checkpoints, tmp_path / "run"))
    other = train.TrainState(
        step=np.int32(0), params={"w": np.zeros((5, 3), np.float32)}, opt_state={"m": np.zeros(4)}
    )
    with pytest.raises(
        WorkdirError, match=r"params/w: saved \(2, 3\) float32, this config builds \(5, 3\) float32"
    ):
        checkpoint.restore_latest(checkpoint.manager(workdir, keep=3), other, lambda line: None)
    assert not (workdir / checkpoint.SET_ASIDE_DIR).exists()


def test_a_resume_past_a_damaged_checkpoint_ends_where_an_uninterrupted_run_does(tmp_path, capsys):
    argv = ["train", "--config", f"{ADDING_CONFIG}:T=6", *[f"--config.{o}" for o in TINY_RESUMABLE]]
    assert cli.main([*argv, "--workdir", str(tmp_path / "reference"), "--config.train.steps=60"]) == 0
    workdir = tmp_path / "damaged"
    assert cli.main([*argv, "--workdir", str(workdir), "--config.train.steps=40"]) == 0
    damage(workdir / "checkpoints" / "40" / "default" / "manifest.ocdbt", "flip", 100)
    capsys.readouterr()
    assert cli.main([*argv, "--workdir", str(workdir), "--config.train.steps=60", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "the checkpoint of step 40 does not restore: default/manifest.ocdbt has changed" in out
    assert "resuming from the checkpoint of step 30" in out
    assert_bit_identical(final_params(workdir, 60), final_params(tmp_path / "reference", 60))


def test_a_checkpoint_whose_files_are_intact_is_never_set_aside(three_checkpoints, tmp_path):
    workdir = pathlib.Path(shutil.copytree(three_checkpoints, tmp_path / "run"))
    like = small_state(0).replace(step=np.int32(0))  # orbax cannot restore into a numpy scalar
    with pytest.raises(ValueError, match="Unsupported type"):
        checkpoint.restore_latest(checkpoint.manager(workdir, keep=3), like, lambda line: None)
    assert not (workdir / checkpoint.SET_ASIDE_DIR).exists()


def test_the_last_step_is_checkpointed_even_off_the_checkpoint_interval(tmp_path):
    config = resumable_config(250)
    config.train.keep_checkpoints = 10
    train.fit(config, tmp_path, log=lambda line: None)
    assert checkpoint.manager(tmp_path, keep=10).all_steps() == [0, 200, 250]


def test_resuming_a_finished_run_repeats_no_held_out_line(tmp_path):
    config = resumable_config(200)
    config.train.eval_every = 100
    first = train.fit(config, tmp_path, log=lambda line: None).summary
    again = train.fit(config, tmp_path, resume=True, log=lambda line: None).summary
    assert again["test"] == first["test"]
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    for split in ("valid", "test"):
        assert [record["step"] for record in records if record["split"] == split] == [0, 100, 200]


def test_a_run_resumes_from_its_step_0_checkpoint_when_the_later_one_is_damaged(tmp_path):
    config = resumable_config(200)
    reference = train.fit(config, tmp_path / "reference", log=lambda line: None).summary
    train.fit(config, tmp_path / "damaged", log=lambda line: None)
    damage(tmp_path / "damaged" / "checkpoints" / "200" / "_CHECKPOINT_METADATA", "flip", 5)
    lines = []
    resumed = train.fit(config, tmp_path / "damaged", resume=True, log=lines.append).summary
    assert "resuming from the checkpoint of step 0" in lines and resumed["resumed_from"] == 0
    assert resumed["test"] == reference["test"]
