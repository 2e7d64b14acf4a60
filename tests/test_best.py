"""The best held-out checkpoint (``train.keep_best``) and early stopping
(``train.early_stopping_patience``): the checkpoint kept is the state of the best validation value
in the run's log, early stopping ends the run where the rule says, and a resumed or rolled-back
run keeps and stops as the uninterrupted one."""

import json

import jax
import numpy as np
import pytest

from irnn_jax.core.errors import WorkdirError
from irnn_jax.training import checkpoint, train

from .helpers import adding_config

STEPS = 60
EVERY = 5


def config(patience=0, steps=STEPS, keep_best="mse"):
    """A short adding run whose validation MSE falls, rises and falls again (Adam at lr 0.1)."""
    run = adding_config(seq_len=8, steps=steps, lr=0.1, log_every=EVERY, eval_every=EVERY)
    run.task.held_out_size = 64
    run.train.eval_batch_size = 64
    run.train.checkpoint_every = 2 * EVERY
    run.train.keep_checkpoints = 20  # every regular checkpoint stays, to compare states with
    run.train.keep_best = keep_best
    run.train.early_stopping_patience = patience
    return run


def held_out_lines(workdir, split):
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    return {record["step"]: record for record in records if record["split"] == split}


def stop_step(valid, patience):
    """Where early stopping ends a run with these validation MSEs (``{step: mse}``): after
    ``patience`` evaluations in a row that are not lower than the lowest before them."""
    lowest, since = float("inf"), 0
    for step in sorted(valid):
        lowest, since = (valid[step], 0) if valid[step] < lowest else (lowest, since + 1)
        if since >= patience:
            return step
    return None


def lowest_step(valid, until=STEPS):
    return min((step for step in valid if step <= until), key=lambda step: (valid[step], step))


def params_of(state):
    return [np.asarray(leaf) for leaf in jax.tree.leaves(state.params)]


def same_params(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def regular_checkpoint_params(workdir, step, like):
    manager = checkpoint.manager(workdir, keep=20)
    try:
        return params_of(checkpoint.restore(manager, step, like))
    finally:
        manager.close()


def best_steps(workdir):
    manager = checkpoint.manager(workdir, keep=None, which="best")
    try:
        return sorted(manager.all_steps())
    finally:
        manager.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run without early stopping: its workdir, summary and validation MSEs."""
    workdir = tmp_path_factory.mktemp("reference")
    summary = train.fit(config(), workdir, log=lambda line: None).summary
    valid = {step: line["mse"] for step, line in held_out_lines(workdir, "valid").items()}
    return workdir, summary, valid


def test_the_best_checkpoint_is_the_state_at_the_lowest_validation_mse_of_the_log(reference):
    workdir, summary, valid = reference
    best = lowest_step(valid)
    assert best < STEPS  # the run got worse after its best point: latest and best differ
    loaded = train.load(workdir, log=lambda line: None, which="best")
    assert loaded.step == best and best_steps(workdir) == [best]
    if best % (2 * EVERY) == 0:  # a regular checkpoint of the same step holds the same state
        assert same_params(params_of(loaded.state), regular_checkpoint_params(workdir, best, loaded.state))
    logged = {split: dict(held_out_lines(workdir, split)[best]) for split in ("valid", "test")}
    for line in logged.values():
        del line["step"], line["split"]
    assert summary["best"] == {"metric": "mse", "step": best, **logged}
    assert train.load(workdir, log=lambda line: None).step == STEPS


def test_the_best_checkpoint_scores_its_logged_validation_mse(reference):
    workdir, summary, _ = reference
    loaded = train.load(workdir, log=lambda line: None, which="best")
    eval_step = jax.jit(loaded.run.eval_step())
    batches = loaded.run.task.batches("valid", loaded.run.settings.eval_batch_size)
    metrics = loaded.run.task.complete_metrics(train.evaluate(eval_step, loaded.state.params, batches))
    assert metrics["mse"] == pytest.approx(summary["best"]["valid"]["mse"], rel=1e-6)


def test_loading_the_best_point_of_a_run_that_kept_none_names_the_setting(tmp_path):
    train.fit(config(steps=10, keep_best=None), tmp_path, log=lambda line: None)
    with pytest.raises(WorkdirError, match=r"no best checkpoint .*set train.keep_best"):
        train.load(tmp_path, log=lambda line: None, which="best")
    with pytest.raises(ValueError, match="'newest'"):
        train.load(tmp_path, log=lambda line: None, which="newest")


def test_a_metric_the_task_does_not_log_is_refused_naming_the_ones_it_does(tmp_path):
    with pytest.raises(Exception, match=r"keep_best.*'accuracy'.*mse"):
        train.fit(config(steps=10, keep_best="accuracy"), tmp_path, log=lambda line: None)


@pytest.mark.parametrize("patience", [2, 3])
def test_early_stopping_ends_the_run_after_patience_evaluations_without_a_lower_mse(
    reference, tmp_path, patience
):
    _, _, valid = reference
    expected = stop_step(valid, patience)
    assert expected is not None and expected < STEPS  # the rule ends this run early
    summary = train.fit(config(patience), tmp_path, log=lambda line: None).summary
    assert summary["steps"] == expected
    assert summary["stopped_early"] == {"step": expected, "patience": patience}
    assert {step: line["mse"] for step, line in held_out_lines(tmp_path, "valid").items()} == {
        step: mse for step, mse in valid.items() if step <= expected
    }
    assert train.load(tmp_path, log=lambda line: None).step == expected  # checkpointed where it stopped
    assert best_steps(tmp_path) == [lowest_step(valid, expected)]


def test_a_patience_that_no_stretch_of_the_run_exhausts_trains_every_step(reference, tmp_path):
    _, _, valid = reference
    assert stop_step(valid, 20) is None
    summary = train.fit(config(20), tmp_path, log=lambda line: None).summary
    assert summary["steps"] == STEPS and "stopped_early" not in summary


@pytest.mark.parametrize("interrupted_at", [20, 30])
def test_a_resumed_run_keeps_the_best_checkpoint_and_stops_as_the_uninterrupted_one(
    reference, tmp_path_factory, interrupted_at
):
    _, _, valid = reference
    patience = 3
    whole = tmp_path_factory.mktemp("whole")
    uninterrupted = train.fit(config(patience), whole, log=lambda line: None)
    expected = stop_step(valid, patience)
    assert interrupted_at <= expected
    parted = tmp_path_factory.mktemp("parted")
    train.fit(config(patience, steps=interrupted_at), parted, log=lambda line: None)
    resumed = train.fit(config(patience), parted, resume=True, log=lambda line: None)
    assert resumed.summary["stopped_early"] == uninterrupted.summary["stopped_early"]
    assert resumed.summary["best"] == uninterrupted.summary["best"]
    best = [train.load(workdir, log=lambda line: None, which="best") for workdir in (whole, parted)]
    assert best[0].step == best[1].step
    assert same_params(params_of(best[0].state), params_of(best[1].state))


def test_a_run_resumed_after_it_stopped_early_stops_again_at_once(reference, tmp_path):
    first = train.fit(config(2), tmp_path, log=lambda line: None).summary
    lines_before = (tmp_path / "metrics.jsonl").read_text()
    again = train.fit(config(2), tmp_path, resume=True, log=lambda line: None).summary
    assert again["steps"] == first["steps"] and again["stopped_early"] == first["stopped_early"]
    assert again["best"] == first["best"]
    assert [line for line in (tmp_path / "metrics.jsonl").read_text().splitlines() if '"train"' in line] == [
        line for line in lines_before.splitlines() if '"train"' in line
    ]


class KilledError(Exception):
    """The run's process dies here."""


class KillAt:
    """A metrics writer that kills the run when the training line of ``step`` is logged: after
    everything of the steps before it was saved, before that step's checkpoint."""

    def __init__(self, step):
        self.step = step

    def scalars(self, step, values):
        if step == self.step and "train/loss" in values:
            raise KilledError(step)

    def restart(self, step):
        pass


def test_a_run_killed_after_a_best_point_between_checkpoints_resumes_with_the_best_state_up_to_there(
    reference, tmp_path
):
    """Going back to the latest regular checkpoint, the best point of the log up to it must still
    have its state, though a newer best point (after that checkpoint) was saved since."""
    _, summary, valid = reference
    regular = 2 * EVERY
    moved = [step for step in sorted(valid) if step % regular and lowest_step(valid, step) == step]
    between = next(step for step in moved if step > regular)
    with pytest.raises(KilledError):
        train.fit(config(), tmp_path, log=lambda line: None, writers=[KillAt(between + EVERY)])
    going_back_to = between - EVERY
    assert train.load(tmp_path, log=lambda line: None).step == going_back_to
    assert lowest_step(valid, going_back_to) in best_steps(tmp_path)
    resumed = train.fit(config(), tmp_path, resume=True, log=lambda line: None).summary
    assert resumed["resumed_from"] == going_back_to and resumed["best"] == summary["best"]
    assert best_steps(tmp_path) == [lowest_step(valid)]


def test_a_rolled_back_run_keeps_a_best_checkpoint_of_its_logged_best_point(tmp_path):
    run = config()
    run.optim.name, run.optim.lr, run.optim.clip_mode = "sgd", 1e4, "none"
    run.train.on_divergence, run.train.rollback_lr_factor, run.train.max_rollbacks = "rollback", 1e-3, 4
    summary = train.fit(run, tmp_path, log=lambda line: None).summary
    assert summary["rollbacks"] >= 1
    valid = {step: line["mse"] for step, line in held_out_lines(tmp_path, "valid").items()}
    assert summary["best"]["step"] == lowest_step(valid)
    assert train.load(tmp_path, log=lambda line: None, which="best").step == lowest_step(valid)
