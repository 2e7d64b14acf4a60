import json
import shutil
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from irnn_jax import config as config_lib
from irnn_jax import models
from irnn_jax.core import recurrence
from irnn_jax.core.errors import WorkdirError
from irnn_jax.tasks import adding, speech
from irnn_jax.training import optim, train

from .helpers import ADDING_CONFIG, adding_config, held_out_score


def small_setup(lr=1e-2, name="adam"):
    task = adding.AddingProblem(seq_len=8, held_out_size=256)
    config = adding_config(lr=lr, name=name)
    model = models.from_config(config.model, task.output_size)
    tx = optim.make_optimizer(config.optim)
    batches = task.batches("train", 16, jax.random.PRNGKey(0))
    first = next(batches)
    state = train.create_train_state(model, tx, jax.random.PRNGKey(1), first[0])
    return task, model, tx, state, batches


def test_train_step_is_traced_once_over_many_steps():
    task, model, tx, state, batches = small_setup()
    step_fn = jax.jit(
        chex.assert_max_traces(train.make_train_step(model.apply, task.loss_and_metrics, tx), n=1)
    )
    for _ in range(25):
        state, _ = step_fn(state, next(batches))
    assert int(state.step) == 25


def test_train_step_metrics_are_the_loss_norms_finiteness_flags_and_active_relus():
    task, model, tx, state, batches = small_setup(lr=0.1, name="sgd")
    batch = next(batches)
    grads = jax.grad(lambda p: task.loss(model.apply({"params": p}, batch[0]), batch[1]))(state.params)
    new_state, metrics = train.make_train_step(model.apply, task.loss_and_metrics, tx)(state, batch)
    assert set(metrics) == {
        "loss",
        "mse",
        "grad_l2",
        "param_l2",
        "update_l2",
        "grad_finite",
        "param_finite",
        "active_fraction",
    }
    hidden_states = recurrence.rnn(state.params["rnn"]["layer_0"], batch[0])
    np.testing.assert_allclose(metrics["active_fraction"], np.mean(hidden_states > 0), rtol=1e-6)
    assert metrics["grad_finite"].tolist() == [True] * len(jax.tree.leaves(state.params))
    assert metrics["param_finite"].tolist() == [True] * len(jax.tree.leaves(state.params))
    np.testing.assert_allclose(metrics["grad_l2"], optax.tree.norm(grads), rtol=1e-5)
    np.testing.assert_allclose(metrics["param_l2"], optax.tree.norm(new_state.params), rtol=1e-6)
    expected_update = optax.tree.norm(jax.tree.map(jnp.subtract, new_state.params, state.params))
    np.testing.assert_allclose(metrics["update_l2"], expected_update, rtol=1e-4)


def test_evaluate_weights_each_batch_by_its_size():
    task, model, _, state, _ = small_setup()
    eval_step = jax.jit(train.make_eval_step(model.apply, task.metrics))
    in_pieces = train.evaluate(eval_step, state.params, task.batches("test", 100))  # 100, 100, 56
    whole = train.evaluate(eval_step, state.params, task.batches("test", 256))
    np.testing.assert_allclose(in_pieces["mse"], whole["mse"], rtol=1e-5)


def test_evaluate_without_batches_is_an_error():
    with pytest.raises(ValueError, match="no batches"):
        train.evaluate(lambda params, batch, carry: ({}, carry), None, [])


def test_fit_learns_a_short_adding_problem_and_writes_metrics_and_summary(tmp_path):
    config = adding_config(seq_len=10, steps=2000, lr=3e-3, log_every=100, eval_every=1000)
    lines = []
    summary = train.fit(config, tmp_path, log=lines.append).summary
    assert summary["test"]["mse"] < 0.1 * summary["baseline"]
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train_records = [record for record in records if record["split"] == "train"]
    assert [record["step"] for record in train_records] == list(range(100, 2001, 100))
    assert {"loss", "mse", "grad_l2", "param_l2", "update_l2", "active_fraction", "steps_per_s"} <= set(
        train_records[0]
    )
    assert [record["step"] for record in records if record["split"] == "test"] == [0, 1000, 2000]
    assert json.loads((tmp_path / "summary.json").read_text())["test"] == summary["test"]
    assert lines[0].startswith("task adding") and "optimiser adam" in lines[0]
    assert "baseline 0.1667" in lines[-1]


def test_fit_returns_the_trained_state_and_load_reads_it_back_from_the_workdir(tmp_path):
    config = adding_config(seq_len=6, steps=30, log_every=10, eval_every=10)
    fitted = train.fit(config, tmp_path, log=lambda line: None)
    loaded = train.load(tmp_path, log=lambda line: None)
    assert loaded.step == int(fitted.state.step) == 30
    for mine, read in zip(jax.tree.leaves(fitted.state), jax.tree.leaves(loaded.state), strict=True):
        np.testing.assert_array_equal(mine, read)
    xs, targets = next(loaded.run.task.batches("test", 512))
    mse = float(jnp.mean((loaded.run.model.apply({"params": loaded.state.params}, xs) - targets) ** 2))
    np.testing.assert_allclose(mse, fitted.summary["test"]["mse"], rtol=1e-5)


def test_load_reads_an_interrupted_run_at_its_latest_checkpoint_and_refuses_a_folder_with_none(tmp_path):
    config = adding_config(seq_len=6, steps=30, log_every=10, eval_every=10)
    config.train.checkpoint_every = 10
    train.fit(config, tmp_path / "run", log=lambda line: None)
    shutil.rmtree(tmp_path / "run" / "checkpoints" / "30")  # as if killed between 20 and 30
    assert train.load(tmp_path / "run", log=lambda line: None).step == 20
    with pytest.raises(WorkdirError, match=r"has no config\.json"):
        train.load(tmp_path / "empty")


def test_a_run_recorded_before_the_dtype_fields_existed_still_loads_and_resumes(tmp_path):
    config = adding_config(seq_len=6, steps=20, log_every=10, eval_every=10)
    config.train.checkpoint_every = 10
    train.fit(config, tmp_path, log=lambda line: None)
    recorded = json.loads((tmp_path / "config.json").read_text())
    del recorded["model"]["dtype"], recorded["model"]["param_dtype"]  # as older runs recorded it
    (tmp_path / "config.json").write_text(json.dumps(recorded))
    assert train.load(tmp_path, log=lambda line: None).step == 20
    config.train.steps = 30
    assert train.fit(config, tmp_path, resume=True, log=lambda line: None).summary["resumed_from"] == 20


def test_a_resumed_runs_elapsed_seconds_go_on_from_its_checkpoints_train_line(tmp_path):
    config = adding_config(seq_len=6, steps=20, log_every=10, eval_every=10)
    config.train.checkpoint_every = 10
    first = train.fit(config, tmp_path, log=lambda line: None).summary
    assert first["elapsed_s"] == pytest.approx(first["wall_s"], abs=0.05)  # a fresh run: the same clock
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    elapsed = [line["elapsed_s"] for line in lines if line["split"] == "train"]
    assert len(elapsed) == 2 and 0 < elapsed[0] < elapsed[1] <= first["elapsed_s"]
    config.train.steps = 30
    resumed = train.fit(config, tmp_path, resume=True, log=lambda line: None).summary
    assert resumed["elapsed_s"] == pytest.approx(elapsed[1] + resumed["wall_s"], abs=0.05)


def test_a_run_resumed_from_a_log_without_elapsed_seconds_does_not_guess_them(tmp_path):
    config = adding_config(seq_len=6, steps=20, log_every=10, eval_every=10)
    config.train.checkpoint_every = 10
    train.fit(config, tmp_path, log=lambda line: None)
    log = tmp_path / "metrics.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    log.write_text(
        "".join(json.dumps({k: v for k, v in line.items() if k != "elapsed_s"}) + "\n" for line in lines)
    )
    config.train.steps = 30
    resumed = train.fit(config, tmp_path, resume=True, log=lambda line: None).summary
    assert resumed["elapsed_s"] is None and resumed["wall_s"] > 0
    assert not any("elapsed_s" in json.loads(line) for line in log.read_text().splitlines())


def test_fit_is_reproducible_for_a_seed_across_processes_and_differs_between_seeds(tmp_path):
    config = adding_config(seq_len=6, steps=30, log_every=10, eval_every=30)
    overrides = [f"--config.{name}={value}" for name, value in _flat(config).items()]
    command = [sys.executable, "-m", "irnn_jax.cli", "train", "--config", f"{ADDING_CONFIG}:T=6"]
    subprocess.run(
        [*command, "--workdir", str(tmp_path / "other_process"), *overrides], check=True, timeout=600
    )
    first = json.loads((tmp_path / "other_process" / "summary.json").read_text())
    second = train.fit(config, tmp_path / "this_process", log=lambda line: None).summary
    assert first["test"] == second["test"]
    config.seed = 1
    assert train.fit(config, tmp_path / "seed1", log=lambda line: None).summary["test"] != second["test"]


def _flat(config, prefix=""):
    """``{'train.steps': 30, ...}``: the leaves of a config, to pass as overrides."""
    flat = {}
    for key, value in config.items():
        if hasattr(value, "items") and not isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_fit_stops_with_the_step_when_training_diverges(tmp_path):
    config = adding_config(seq_len=6, steps=50, log_every=10, eval_every=50, name="sgd", lr=1e30)
    config.optim.clip_mode = "none"
    with pytest.raises(train.TrainingDivergedError, match=r"non-finite training at step \d+: loss="):
        train.fit(config, tmp_path, log=lambda line: None)


@pytest.mark.parametrize(("field", "value"), [("steps", 0), ("batch_size", -1), ("log_every", 0)])
def test_fit_refuses_non_positive_budgets_before_compiling(tmp_path, field, value):
    config = adding_config()
    config.train[field] = value
    with pytest.raises(ValueError, match=f"train.{field} must be a positive int"):
        train.fit(config, tmp_path, log=lambda line: None)


@pytest.mark.parametrize("cell", ["rnn_relu", "rnn_tanh", "lstm", "gru"])
def test_fit_runs_every_baseline_cell_from_its_config(tmp_path, cell):
    config = adding_config(seq_len=6, steps=10, log_every=5, eval_every=10)
    config.model = config_lib.default_model(cell, hidden_size=8)
    lines = []
    summary = train.fit(config, tmp_path, log=lines.append).summary
    assert f"model {cell}, 1 x 8 units" in lines[0]
    assert np.isfinite(summary["test"]["mse"])


@pytest.mark.network
def test_fit_on_permuted_mnist_saves_the_pixel_order_with_the_run(tmp_path):
    config = config_lib.load(str(ADDING_CONFIG.parent / "mnist.py") + ":quick,permuted")
    config.model.hidden_size = 8
    config.train.steps = 2
    config.train.log_every = 1
    config.train.eval_every = 2
    config.train.eval_batch_size = 5000
    lines = []
    summary = train.fit(config, tmp_path, log=lines.append).summary
    saved = np.load(tmp_path / "task_artifacts.npz")["pixel_order"]
    assert sorted(saved) == list(range(784)) and not np.array_equal(saved, np.arange(784))
    correct = held_out_score(
        tmp_path, config, lambda logits, labels: ((logits.argmax(-1) == labels).sum(), len(labels))
    )
    assert summary["test"]["accuracy"] == pytest.approx(correct, abs=1e-6)
    assert "accuracy valid" in lines[-1] and "(baseline 0.1135)" in lines[-1]


def test_fit_on_a_tomita_grammar_evaluates_on_longer_strings(tmp_path):
    config = config_lib.load(str(ADDING_CONFIG.parent / "tomita.py") + ":grammar=5,quick")
    config.task.train_lengths = (2, 4)
    config.task.test_lengths = (5, 6)
    config.task.held_out_per_length = 20
    config.model.hidden_size = 8
    config.train.steps = 20
    config.train.log_every = 10
    config.train.eval_every = 20
    summary = train.fit(config, tmp_path, log=lambda line: None).summary
    assert summary["baseline"] == 0.5
    accuracy = held_out_score(
        tmp_path, config, lambda logits, labels: (((logits[:, 0] > 0) == (labels > 0.5)).sum(), len(labels))
    )
    assert summary["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_a_carried_state_train_step_starts_from_the_last_windows_state():
    model = models.RNNModel(hidden_size=6, output_size=5, vocab_size=5, embed_size=3, readout="sequence")
    tokens = jax.random.randint(jax.random.PRNGKey(0), (2, 9), 0, 5)
    loss = lambda logits, targets: optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()  # noqa: E731
    tx = optax.sgd(0.0)
    state = train.create_train_state(model, tx, jax.random.PRNGKey(1), tokens[:, :4], carries_state=True)
    chex.assert_trees_all_equal(state.carry, (jnp.zeros((2, 6)),))
    step = train.make_train_step(model.apply, lambda logits, targets: (loss(logits, targets), {}), tx)
    state, _ = step(state, (tokens[:, :4], tokens[:, 1:5]))
    state, metrics = step(state, (tokens[:, 4:8], tokens[:, 5:9]))
    _, expected = model.apply({"params": state.params}, tokens[:, :8], return_state=True)
    chex.assert_trees_all_close(state.carry, expected, rtol=1e-6)
    (carried,) = expected  # the state's size, as it goes on to the next window
    np.testing.assert_allclose(metrics["state_rms"], np.sqrt(np.mean(np.square(carried))), rtol=1e-6)


@pytest.mark.network
def test_fit_on_character_level_ptb_reports_bits_per_char_from_a_carried_state(tmp_path):
    config = config_lib.load(str(ADDING_CONFIG.parent / "ptb.py") + ":quick,level=char")
    config.model.hidden_size = 8
    config.model.embed_size = 4
    config.train.steps = 4
    config.train.log_every = 2
    config.train.eval_every = 4
    config.train.eval_batch_size = 500
    lines = []
    summary = train.fit(config, tmp_path, log=lines.append).summary
    assert summary["test"]["bits_per_char"] == pytest.approx(summary["test"]["cross_entropy"] / np.log(2))

    def cross_entropy(logits, targets):
        log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        return -np.take_along_axis(log_probs, targets[..., None], -1).sum(), targets.size

    bits = held_out_score(tmp_path, config, cross_entropy) / np.log(2)
    assert summary["test"]["bits_per_char"] == pytest.approx(bits, rel=1e-5)
    assert "bits_per_char valid" in lines[-1]


@pytest.mark.network
def test_fit_on_speech_frames_counts_real_frames_only(tmp_path):
    config = config_lib.load(
        str(ADDING_CONFIG.parent / "speech.py") + ":quick,dataset=japanese_vowels,bidirectional"
    )
    config.model.hidden_size = 8
    config.train.steps = 6
    config.train.log_every = 3
    config.train.eval_every = 6
    summary = train.fit(config, tmp_path, log=lambda line: None).summary

    def frame_errors(logits, labels):
        real = labels != speech.PAD_LABEL
        return ((logits.argmax(-1) != labels) & real).sum(), real.sum()

    assert summary["test"]["frame_error_rate"] == pytest.approx(
        held_out_score(tmp_path, config, frame_errors), abs=1e-6
    )
    assert 1 - 88 / 370 <= summary["baseline"] < 1  # no speaker has more than 88 of the 370 test utterances
