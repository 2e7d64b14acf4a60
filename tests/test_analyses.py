import importlib.util
import json
import pathlib

import jax
import numpy as np
import pytest

from irnn_jax import config as config_lib
from irnn_jax.training import train

from .helpers import adding_config

ANALYSES = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "analyses"
RESULTS = ANALYSES.parent / "results"


def load_script(name="mnist_weight_averaging"):
    spec = importlib.util.spec_from_file_location(name, ANALYSES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SmallTask:
    """Stands in for PixelMNIST: five training and two validation examples, numbered."""

    def batches(self, split, batch_size, key=None):
        assert split == "valid" or key is not None, "training batches need a key"
        images = {"train": np.arange(5), "valid": np.arange(5, 7)}[split]
        yield images.astype(np.float32), images.astype(np.int32)


def test_training_on_all_images_visits_each_training_and_validation_image_once_an_epoch():
    batches = load_script().all_training_images(SmallTask(), 7, jax.random.key(0))

    epochs = [next(batches) for _ in range(3)]

    for images, labels in epochs:
        assert sorted(labels.tolist()) == list(range(7))
        np.testing.assert_array_equal(images, labels.astype(np.float32))
    assert len({tuple(labels.tolist()) for _, labels in epochs}) > 1  # each epoch is reshuffled


def test_the_relu_rnn_baseline_has_the_gain_its_committed_analysis_chose():
    record = json.loads((RESULTS / "relu_rnn_gain" / "gain_grid.json").read_text())
    assert config_lib.INIT_BY_CELL["rnn_relu"]["recurrent"] == {
        "name": "fan_in_gaussian",
        "gain": record["chosen_gain"],
    }
    kept = [row["gain"] for row in record["gains"] if row["bounded"]]
    assert record["chosen_gain"] == max(kept) and record["random_walk_gain"] not in kept


def test_the_outlier_analysis_finds_each_checkpoints_held_out_mse_as_the_trainer_measured_it(tmp_path):
    config = adding_config(seq_len=6, steps=20, eval_every=10)
    config.train.checkpoint_every, config.train.keep_checkpoints = 10, 3
    train.fit(config, tmp_path / "run", log=lambda line: None, progress="none")

    record = load_script("adding_outliers").analyse(tmp_path / "run")

    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    measured = {(line["step"], line["split"]): line["mse"] for line in logged if line.get("split") != "train"}
    assert [row["step"] for row in record["checkpoints"]] == [0, 10, 20]
    for row in record["checkpoints"]:
        for split in ("valid", "test"):
            assert row[split]["mse"] == pytest.approx(measured[row["step"], split], rel=1e-5)
            assert 0.0 < row[split]["worst_10_share"] <= 1.0
            assert row[split]["largest_squared_error"] >= row[split]["mse"]
        assert len(row["worst_test_sequence"]["markers_at"]) == 2
