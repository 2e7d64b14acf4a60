import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irnn_jax import tasks
from irnn_jax.tasks import tomita

ALL_STRINGS_UP_TO_12 = [
    "".join(bits) for length in range(13) for bits in itertools.product("01", repeat=length)
]


@pytest.mark.parametrize("grammar", tomita.GRAMMARS)
def test_each_generator_dfa_agrees_with_the_direct_membership_test_on_all_strings_up_to_12(grammar):
    disagreements = [
        s for s in ALL_STRINGS_UP_TO_12 if tomita.dfa_accepts(grammar, s) != tomita.in_language(grammar, s)
    ]
    assert disagreements == []


def test_the_direct_tests_match_hand_worked_examples():
    assert tomita.in_language(1, "111") and not tomita.in_language(1, "101")
    assert tomita.in_language(2, "1010") and not tomita.in_language(2, "1001")
    assert tomita.in_language(3, "1100") and not tomita.in_language(3, "10") and tomita.in_language(3, "1001")
    assert tomita.in_language(4, "1001001") and not tomita.in_language(4, "10001")
    assert tomita.in_language(5, "0110") and not tomita.in_language(5, "011")
    assert tomita.in_language(6, "0011") and not tomita.in_language(6, "01011")
    assert tomita.in_language(7, "0011001") and not tomita.in_language(7, "10101")


@pytest.mark.parametrize("grammar", tomita.GRAMMARS)
@pytest.mark.parametrize("accept", [True, False])
def test_sampled_strings_are_members_or_non_members_as_asked(grammar, accept):
    strings = tomita.sample_strings(grammar, 12, 300, accept, np.random.default_rng(grammar))
    assert strings.shape == (300, 12)
    assert all(tomita.in_language(grammar, "".join(map(str, row))) == accept for row in strings)


def test_members_are_drawn_uniformly_among_all_members_of_a_length():
    strings = tomita.sample_strings(5, 4, 8000, True, np.random.default_rng(0))
    members = [s for s in ALL_STRINGS_UP_TO_12 if len(s) == 4 and tomita.in_language(5, s)]
    counts = {s: 0 for s in members}
    for row in strings:
        counts["".join(map(str, row))] += 1
    assert len(members) == 8 and all(800 < count < 1200 for count in counts.values()), counts


def test_training_batches_have_one_length_half_members_and_depend_only_on_key_and_step():
    task = tomita.TomitaTask(4, train_lengths=(3, 10))
    key = jax.random.PRNGKey(0)
    stream = task.batches("train", 16, key)
    batches = [next(stream) for _ in range(5)]
    for inputs, labels in batches:
        assert inputs.shape[0] == 16 and inputs.shape[2] == 2 and 3 <= inputs.shape[1] <= 10
        assert labels.sum() == 8
        strings = ["".join(map(str, row)) for row in inputs.argmax(-1)]
        assert [float(tomita.in_language(4, s)) for s in strings] == list(labels)
    resumed = next(task.batches("train", 16, key, start_step=4))
    np.testing.assert_array_equal(resumed[0], batches[4][0])


def test_the_test_set_holds_only_lengths_longer_than_training_and_is_fixed():
    task = tomita.TomitaTask(2, train_lengths=(2, 8), test_lengths=(9, 14), held_out_per_length=10)
    valid_lengths = sorted({inputs.shape[1] for inputs, _ in task.batches("valid", 4)})
    test_lengths = sorted({inputs.shape[1] for inputs, _ in task.batches("test", 4)})
    assert valid_lengths == [2, 4, 6, 8]  # (10)* has no member of odd length
    assert test_lengths == [10, 12, 14]
    first = [labels for _, labels in task.batches("test", 4)]
    second = [labels for _, labels in task.batches("test", 4)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_accuracy_reads_a_positive_logit_as_member():
    task = tomita.TomitaTask(1)
    metrics = task.metrics(jnp.array([[2.0], [-1.0], [0.5]]), jnp.array([1.0, 0.0, 0.0]))
    assert float(metrics["accuracy"]) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: tomita.TomitaTask(8), "unknown Tomita grammar 8; allowed: 1 to 7"),
        (
            lambda: tomita.TomitaTask(4, train_lengths=(0, 5)),
            r"train_lengths must be \(low, high\) ints with 1 <= low <= high, got \(0, 5\)",
        ),
        (lambda: tomita.TomitaTask(4, test_lengths=(9, 3)), "test_lengths must be"),
        (
            lambda: tomita.TomitaTask(2, train_lengths=(1, 1)),
            r"grammar 2 has no length in train_lengths=\(1, 1\)",
        ),
        (
            lambda: tomita.sample_strings(2, 3, 5, True, np.random.default_rng(0)),
            "Tomita grammar 2 has no members of length 3",
        ),
        (lambda: next(tomita.TomitaTask(4).batches("train", 4)), "the train split needs a PRNG key"),
        (
            lambda: tasks.from_config(
                {
                    "name": "tomita",
                    "grammar": 0,
                    "train_lengths": (1, 4),
                    "test_lengths": (5, 8),
                    "held_out_per_length": 4,
                }
            ),
            "unknown Tomita grammar 0",
        ),
    ],
)
def test_bad_tomita_settings_are_refused_naming_the_value(call, message):
    with pytest.raises(ValueError, match=message):
        call()
