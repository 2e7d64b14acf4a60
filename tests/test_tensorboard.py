import json

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator  # the reader: TensorBoard's own

from irnn_jax.runtime import tensorboard
from irnn_jax.training import run_log, train

from .helpers import adding_config


def test_crc32c_gives_the_standard_check_value():
    assert tensorboard.crc32c(b"123456789") == 0xE3069283


def read_scalars(logdir):
    events = event_accumulator.EventAccumulator(str(logdir))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_tensorboard_reads_back_the_scalars_a_run_logs(tmp_path):
    config = adding_config(seq_len=6, steps=20, log_every=10, eval_every=10)
    train.fit(config, tmp_path, log=lambda line: None, tensorboard=True)
    scalars = read_scalars(tmp_path / "tensorboard")
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    for split, name in (("train", "loss"), ("train", "grad_l2"), ("valid", "mse"), ("test", "mse")):
        logged = [(line["step"], line[name]) for line in lines if line["split"] == split]
        read = scalars[f"{split}/{name}"]
        assert [step for step, _ in read] == [step for step, _ in logged] and len(read) >= 2
        np.testing.assert_allclose([v for _, v in read], [v for _, v in logged], rtol=1e-6)


def test_the_learning_rate_of_each_window_is_logged_as_the_cosine_decay_sets_it(tmp_path):
    config = adding_config(seq_len=6, steps=20, log_every=5, eval_every=10)
    config.optim.name, config.optim.lr, config.optim.decay_steps = "adam", 0.01, 20
    train.fit(config, tmp_path, log=lambda line: None, tensorboard=True)
    read = read_scalars(tmp_path / "tensorboard")["train/learning_rate"]
    assert [step for step, _ in read] == [5, 10, 15, 20]
    expected = [0.01 * 0.5 * (1 + np.cos(np.pi * (step - 1) / 20)) for step, _ in read]
    np.testing.assert_allclose([value for _, value in read], expected, rtol=1e-5)


def test_without_the_flag_a_run_writes_no_event_files(tmp_path):
    train.fit(
        adding_config(seq_len=6, steps=10, log_every=10, eval_every=10), tmp_path, log=lambda line: None
    )
    assert not (tmp_path / "tensorboard").exists()


def test_a_value_beyond_float32_is_written_as_infinity_not_a_crash(tmp_path):
    writer = tensorboard.EventWriter(tmp_path)
    writer.scalars(3, {"train/perplexity": 1e304, "train/loss": 700.0})
    scalars = read_scalars(tmp_path)
    assert scalars["train/perplexity"] == [(3, float("inf"))] and scalars["train/loss"] == [(3, 700.0)]


def test_a_resumed_run_leaves_tensorboard_no_point_of_the_steps_it_writes_again(tmp_path):
    first = run_log.RunLog(tmp_path, None, [tensorboard.EventWriter(tmp_path / "tensorboard")])
    for step in (5, 10, 15, 20):
        first.write({"step": step, "split": "train", "loss": float(step)})

    resumed = run_log.RunLog(tmp_path, 10, [tensorboard.EventWriter(tmp_path / "tensorboard")])
    resumed.write({"step": 15, "split": "train", "loss": -15.0})

    assert read_scalars(tmp_path / "tensorboard")["train/loss"] == [(5, 5.0), (10, 10.0), (15, -15.0)]


class ListWriter:
    """A tracker of one's own: keeps what it is given."""

    def __init__(self):
        self.points, self.restarts = [], []

    def scalars(self, step, values):
        self.points.append((step, dict(values)))

    def restart(self, step):
        self.restarts.append(step)


def test_a_writer_of_your_own_gets_every_logged_line_and_hears_of_a_resume(tmp_path):
    config = adding_config(seq_len=6, steps=20, log_every=10, eval_every=10)
    config.train.checkpoint_every = 10
    mine = ListWriter()
    train.fit(config, tmp_path, log=lambda line: None, writers=[mine])
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [step for step, _ in mine.points] == [line["step"] for line in lines]
    assert mine.points[-1][1] == {f"test/{k}": v for k, v in lines[-1].items() if k not in ("step", "split")}
    config.train.steps = 30
    again = ListWriter()
    train.fit(config, tmp_path, log=lambda line: None, resume=True, writers=[again])
    assert again.restarts == [21] and again.points[0][0] == 20  # step 20's held-out lines come again


def test_a_negative_step_is_refused_not_encoded(tmp_path):
    writer = tensorboard.EventWriter(tmp_path)
    with pytest.raises(ValueError, match="step"):
        writer.scalars(-1, {"train/loss": 1.0})
