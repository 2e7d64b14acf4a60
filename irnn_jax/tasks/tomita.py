"""The seven Tomita grammars (Tomita 1982): classify binary strings as in or out of a language.

1. ``1*``
2. ``(10)*``
3. no odd-length maximal run of 1s immediately followed by an odd-length maximal run of 0s
   (our formalisation; a run of 0s that ends the string counts as complete)
4. no ``000`` substring
5. an even number of 0s and an even number of 1s
6. ``(#0 - #1)`` divisible by 3
7. ``0*1*0*1*``

Strings are generated from each language's DFA, uniformly among the accepted (or rejected)
strings of a length, so batches are balanced: half members, half not. :func:`in_language` is
an independent direct test (regular expressions and counts) that the DFAs are checked against.
Each batch has one length (no padding): training lengths are ``train_lengths``; the
validation set uses the same lengths, the test set the longer ``test_lengths`` (does the
network generalise beyond the lengths it saw?). Inputs are one-hot ``[B, T, 2]``; the output
is one logit. Under ``jit`` each length compiles once (32 shapes with the default lengths).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax

from irnn_jax.core import checks
from irnn_jax.tasks import base

GRAMMARS = (1, 2, 3, 4, 5, 6, 7)
SPLITS = ("train", "valid", "test")
Batch = tuple[np.ndarray, np.ndarray]
_DEAD = -1

# (transitions[state] = (next state on "0", next state on "1"), accepting states); state 0 starts.
_DFAS: dict[int, tuple[tuple[tuple[int, int], ...], frozenset[int]]] = {
    1: (((_DEAD, 0),), frozenset({0})),
    2: (((_DEAD, 1), (0, _DEAD)), frozenset({0})),
    # 0: no pending odd 1-run; 1/2: in a 1-run of odd/even length; 3/4: in an odd/even 0-run
    # that follows an odd 1-run.
    3: (((0, 1), (3, 2), (0, 1), (4, _DEAD), (3, 1)), frozenset({0, 1, 2, 4})),
    4: (((1, 0), (2, 0), (_DEAD, 0)), frozenset({0, 1, 2})),
    5: (((1, 2), (0, 3), (3, 0), (2, 1)), frozenset({0})),
    6: (((1, 2), (2, 0), (0, 1)), frozenset({0})),
    7: (((0, 1), (2, 1), (2, 3), (_DEAD, 3)), frozenset({0, 1, 2, 3})),
}


def in_language(grammar: int, string: str) -> bool:
    """Direct membership test of ``string`` (of '0' and '1') in Tomita language ``grammar``.

    Args:
      grammar: 1 to 7.
      string: a string of ``'0'`` and ``'1'`` characters (may be empty).

    Returns:
      Whether ``string`` is in the language.

    Raises:
      ValueError: for an unknown ``grammar``.
    """
    _check_grammar(grammar)
    if grammar == 1:
        return re.fullmatch("1*", string) is not None
    if grammar == 2:
        return re.fullmatch("(10)*", string) is not None
    if grammar == 3:
        runs = re.findall("1+|0+", string)
        return not any(
            ones[0] == "1" and len(ones) % 2 and len(zeros) % 2 for ones, zeros in itertools.pairwise(runs)
        )
    if grammar == 4:
        return "000" not in string
    if grammar == 5:
        return string.count("0") % 2 == 0 and string.count("1") % 2 == 0
    if grammar == 6:
        return (string.count("0") - string.count("1")) % 3 == 0
    return re.fullmatch("0*1*0*1*", string) is not None


def _check_grammar(grammar: object) -> None:
    if isinstance(grammar, bool) or grammar not in GRAMMARS:
        raise ValueError(f"unknown Tomita grammar {grammar!r}; allowed: 1 to 7")


def dfa_accepts(grammar: int, string: str) -> bool:
    """Run the grammar's DFA (the one the generator samples from) over ``string``.

    Args:
      grammar: 1 to 7.
      string: a string of ``'0'`` and ``'1'`` characters (may be empty).

    Returns:
      Whether the DFA accepts ``string``.

    Raises:
      ValueError: for an unknown ``grammar``.
    """
    _check_grammar(grammar)
    transitions, accepting = _DFAS[grammar]
    state = 0
    for symbol in string:
        state = transitions[state][int(symbol)] if state != _DEAD else _DEAD
    return state in accepting


@functools.cache
def _completion_counts(grammar: int, max_length: int, accept: bool) -> tuple[np.ndarray, np.ndarray]:
    """``counts[k, s]``: how many length-``k`` suffixes lead state ``s`` to accept (or reject),
    and the transition ``table[s, symbol]``; the last state is the dead one."""
    transitions, accepting = _DFAS[grammar]
    states = len(transitions)
    counts = np.zeros((max_length + 1, states + 1))
    counts[0, :states] = [float((state in accepting) == accept) for state in range(states)]
    counts[0, states] = float(not accept)
    table = np.array(
        [[next_state if next_state != _DEAD else states for next_state in row] for row in transitions]
        + [[states, states]]
    )
    for length in range(1, max_length + 1):
        counts[length] = counts[length - 1][table].sum(axis=1)
    return counts, table


def sample_strings(
    grammar: int, length: int, count: int, accept: bool, rng: np.random.Generator
) -> np.ndarray:
    """``count`` strings of ``length`` symbols (int8 array ``[count, length]``), uniform among
    the members (``accept=True``) or non-members of the language.

    Args:
      grammar: 1 to 7.
      length: symbols per string.
      count: strings to draw.
      accept: draw members (True) or non-members (False).
      rng: the NumPy generator to draw from.

    Returns:
      ``[count, length]`` int8 array of 0s and 1s.

    Raises:
      ValueError: for an unknown ``grammar``, or a ``length`` with no members (or non-members).
    """
    _check_grammar(grammar)
    counts, table = _completion_counts(grammar, length, accept)
    if counts[length, 0] == 0:
        raise ValueError(
            f"Tomita grammar {grammar} has no {'members' if accept else 'non-members'} of length {length}"
        )
    states = np.zeros(count, dtype=np.int64)
    strings = np.zeros((count, length), dtype=np.int8)
    for position in range(length):
        remaining = length - position - 1
        weight_one = counts[remaining, table[states, 1]]
        total = counts[remaining, table[states, 0]] + weight_one
        symbols = (rng.random(count) * total < weight_one).astype(np.int64)
        strings[:, position] = symbols
        states = table[states, symbols]
    return strings


@dataclasses.dataclass(frozen=True)
class TomitaTask(base.Task):
    """Binary classification of strings from Tomita grammar ``grammar``."""

    grammar: int
    train_lengths: tuple[int, int] = (1, 16)
    test_lengths: tuple[int, int] = (17, 32)
    held_out_per_length: int = 100

    input_size = 2
    output_size = 1
    metric = "accuracy"
    baseline = 0.5  # batches are balanced

    def __post_init__(self) -> None:
        _check_grammar(self.grammar)
        for name in ("train_lengths", "test_lengths"):
            value = getattr(self, name)
            pair = tuple(value) if isinstance(value, tuple | list) else ()
            if not (
                len(pair) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
                and 1 <= pair[0] <= pair[1]
            ):
                raise ValueError(f"{name} must be (low, high) ints with 1 <= low <= high, got {value!r}")
            object.__setattr__(self, name, pair)
        checks.positive_int(self.held_out_per_length, "held_out_per_length")
        if not self._lengths(self.train_lengths):
            raise ValueError(
                f"grammar {self.grammar} has no length in train_lengths={self.train_lengths} "
                "with both members and non-members"
            )

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[Batch]:
        """Yield ``(one-hot [B, T, 2] float32, labels [B] float32)``; ``train`` batch ``step`` has
        one length and half members, drawn from ``fold_in(key, step)``; ``valid``/``test`` are
        fixed sets, ``held_out_per_length`` strings (half members) per length.

        Args:
          split: ``'train'``, ``'valid'`` (``train_lengths``) or ``'test'`` (``test_lengths``).
          batch_size: strings per batch; held-out batches never mix lengths, so they hold at
            most ``held_out_per_length``.
          key: the PRNG key of the training batches; needed for ``'train'`` only.
          start_step: the first training batch.

        Yields:
          ``(inputs [B, T, 2] float32, labels [B] float32)``, labels 1.0 for members and 0.0
          otherwise, ``T`` fixed within a batch; only lengths with both members and non-members
          occur.

        Raises:
          ValueError: for an unknown ``split``, a non-positive ``batch_size`` or ``'train'``
            without ``key`` (when the first batch is asked for).
        """
        checks.one_of(split, SPLITS, "split")
        checks.positive_int(batch_size, "batch_size")
        if split == "train":
            lengths = self._lengths(self.train_lengths)

            def draw(step_key: jax.Array) -> Batch:
                rng = np.random.default_rng(np.asarray(jax.random.key_data(step_key)))
                return self._batch(int(rng.choice(lengths)), batch_size, rng)

            yield from base.per_step(base.train_key(key), start_step, draw)
        held_out = self.train_lengths if split == "valid" else self.test_lengths
        rng = np.random.default_rng([self.grammar, SPLITS.index(split)])
        for length in self._lengths(held_out):
            yield from base.in_order(self._batch(length, self.held_out_per_length, rng), batch_size)

    def loss(self, logits: jax.Array, labels: jax.Array) -> jax.Array:
        """Mean sigmoid binary cross-entropy of the single logit.

        Args:
          logits: ``[B, 1]``, positive for a member.
          labels: ``[B]`` float, 1.0 for members.

        Returns:
          The scalar cross-entropy averaged over the batch.
        """
        return optax.sigmoid_binary_cross_entropy(logits[:, 0], labels).mean()

    def metrics(self, logits: jax.Array, labels: jax.Array) -> dict[str, jax.Array]:
        """Accuracy (logit > 0 means member) and cross-entropy.

        Args:
          logits: ``[B, 1]``.
          labels: ``[B]`` float, 1.0 for members.

        Returns:
          ``{'accuracy': scalar, 'cross_entropy': scalar}``, batch means.
        """
        return {
            "accuracy": jnp.mean((logits[:, 0] > 0) == (labels > 0.5)),
            "cross_entropy": self.loss(logits, labels),
        }

    def _lengths(self, bounds: tuple[int, int]) -> list[int]:
        """Lengths in ``bounds`` that have both members and non-members."""
        low, high = bounds
        members = _completion_counts(self.grammar, high, True)[0][:, 0]
        others = _completion_counts(self.grammar, high, False)[0][:, 0]
        return [length for length in range(low, high + 1) if members[length] > 0 and others[length] > 0]

    def _batch(self, length: int, size: int, rng: np.random.Generator) -> Batch:
        members = size // 2
        strings = np.concatenate(
            [
                sample_strings(self.grammar, length, members, True, rng),
                sample_strings(self.grammar, length, size - members, False, rng),
            ]
        )
        labels = np.concatenate([np.ones(members), np.zeros(size - members)]).astype(np.float32)
        order = rng.permutation(size)
        return np.eye(2, dtype=np.float32)[strings[order]], labels[order]
