import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irnn_jax import tasks
from irnn_jax.tasks import adding

KEY = jax.random.PRNGKey(0)


def test_each_example_has_one_marker_in_each_half_and_targets_their_sum():
    inputs, targets = adding.sample(KEY, 500, 11)
    values, markers = np.asarray(inputs[..., 0]), np.asarray(inputs[..., 1])
    assert inputs.shape == (500, 11, 2) and targets.shape == (500, 1)
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers[:, :5].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, 5:].sum(axis=1), 1)
    assert values.min() >= 0 and values.max() < 1
    np.testing.assert_allclose(targets[:, 0], (values * markers).sum(axis=1), rtol=1e-6)


def test_the_shortest_sequence_has_its_markers_at_both_steps():
    inputs, _ = adding.sample(KEY, 20, 2)
    np.testing.assert_array_equal(inputs[..., 1], 1.0)


def test_training_batches_depend_only_on_key_and_step_so_a_resumed_stream_matches():
    task = adding.AddingProblem(seq_len=20)
    stream = task.batches("train", 8, KEY)
    batches = [next(stream) for _ in range(4)]
    assert not np.array_equal(batches[0][0], batches[1][0])  # each step draws its own batch
    resumed = next(task.batches("train", 8, KEY, start_step=3))
    np.testing.assert_array_equal(resumed[0], batches[3][0])
    np.testing.assert_array_equal(resumed[1], batches[3][1])
    other_seed = next(task.batches("train", 8, jax.random.PRNGKey(1)))
    assert not np.array_equal(other_seed[0], batches[0][0])


def test_the_test_set_is_fixed_whatever_the_eval_batch_size_and_differs_from_valid():
    task = adding.AddingProblem(seq_len=30, held_out_size=1000)
    whole = next(task.batches("test", 1000))
    pieces = list(task.batches("test", 300))
    assert [len(piece[1]) for piece in pieces] == [300, 300, 300, 100]
    np.testing.assert_array_equal(np.concatenate([piece[0] for piece in pieces]), whole[0])
    np.testing.assert_array_equal(
        adding.AddingProblem(seq_len=30, held_out_size=1000)._held_out("test")[1], whole[1]
    )
    assert not np.array_equal(next(task.batches("valid", 1000))[1], whole[1])


def test_always_predicting_one_scores_the_known_baseline_of_one_sixth():
    task = adding.AddingProblem(seq_len=50)
    _, targets = next(task.batches("test", 10_000))
    baseline = float(task.loss(jnp.ones_like(targets), targets))
    assert abs(baseline - 1 / 6) < 0.01
    assert task.baseline == pytest.approx(1 / 6)


@pytest.mark.parametrize("seq_len", [1, 0, -5, 2.5, True])
def test_sequences_shorter_than_two_steps_are_refused_naming_seq_len(seq_len):
    with pytest.raises(ValueError, match=rf"seq_len \(T\) an int >= 2, got seq_len={seq_len!r}"):
        adding.AddingProblem(seq_len=seq_len)


def test_an_unknown_split_is_refused():
    with pytest.raises(ValueError, match="unknown split 'training'; allowed: train, valid, test"):
        next(adding.AddingProblem(seq_len=5).batches("training", 4))


def test_tasks_from_config_builds_the_adding_problem_and_refuses_unknown_tasks():
    assert tasks.from_config({"name": "adding", "seq_len": 7, "held_out_size": 100}).seq_len == 7
    allowed = "adding, mnist, ptb, speech, tomita, translation"
    with pytest.raises(ValueError, match=f"unknown task 'copying'; known tasks: {allowed}"):
        tasks.from_config({"name": "copying", "seq_len": 7})


def test_adding_markers_are_independent_for_even_lengths():
    inputs, _ = adding.sample(KEY, 2000, 10)
    markers = np.asarray(inputs[..., 1])
    first, second = markers[:, :5].argmax(axis=1), markers[:, 5:].argmax(axis=1)
    pairs = np.bincount(5 * first + second, minlength=25)
    assert pairs.min() > 40  # all 25 position pairs occur (80 expected each), not only 5
