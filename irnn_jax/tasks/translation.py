"""Translation of Bible verses, Spanish to English (the eigen paper's third task, Dou & Principe
2023, on the parallel text that installs here: ``bible_es_en``, :mod:`irnn_jax.data.bible`).

Text to tokens: lower-cased words and single punctuation marks (:func:`tokenize`). Each
language's vocabulary is its ``*_vocab`` most frequent training tokens (ties in order of first
appearance) after four specials, padding (id 0), unknown, start and end (:data:`SPECIALS`); any
other token reads as unknown. Pairs with more than ``max_length`` tokens on either side are left
out of every split (the split sizes say how many stay: :meth:`Translation.sizes`).

A pair is, for the model (:class:`irnn_jax.models.Seq2Seq`), ``source`` (the source tokens, then
padding), ``source_lengths``, ``target_inputs`` (start, then the target tokens) and, as the
targets, the target tokens then end, padded with 0. Padding is masked: the loss and the metrics
are means over real target tokens (cross-entropy in nats, perplexity ``exp`` of its mean, token
accuracy under teacher forcing). The headline metric is BLEU (sacrebleu's corpus BLEU with its
default 13a tokenisation, case-insensitive) of greedy translations, detokenised
(:func:`detokenize`), against the untouched reference verses; the baseline is the BLEU of the
source verses copied unchanged. A run's summary keeps the translations of a few test verses
(:meth:`Translation.examples`).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import sacrebleu

from irnn_jax import data
from irnn_jax.core import checks, softmax
from irnn_jax.tasks import base

DATASETS = ("bible_es_en",)
LANGUAGES = data.bible.LANGUAGES
SPLITS = data.bible.SPLITS
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")
PAD, UNKNOWN, START, END = range(len(SPECIALS))
DECODE_BATCH = 256
EXAMPLES = 5  # test verses, evenly spaced, whose translations a run's summary keeps
_TOKEN = re.compile(r"\w+|[^\w\s]")
_NO_SPACE_BEFORE = re.compile(" ([.,;:!?)\\]»\u201d])")  # closing marks, the right double quote among them
_NO_SPACE_AFTER = re.compile("([(\\[«¿¡\u201c\u2018]) ")  # opening marks, the left quotes among them
_JOINED = re.compile("(\\w) ([\u2019'\u2014-]) (?=\\w)")  # inside a word: apostrophes, dashes, hyphens


def tokenize(text: str) -> list[str]:
    """Lower-cased words and single punctuation marks of ``text``, in order.

    Args:
      text: a verse.

    Returns:
      Its tokens, e.g. ``['in', 'the', 'beginning', ',']``.
    """
    return _TOKEN.findall(text.lower())


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens back to text: spaces between them but none before closing punctuation, after
    opening punctuation or around an apostrophe, hyphen or dash between two words.

    Args:
      tokens: as :func:`tokenize` gives them.

    Returns:
      The text, e.g. ``'in the beginning, god'`` for ``['in', 'the', 'beginning', ',', 'god']``.
    """
    text = " ".join(tokens)
    text = _JOINED.sub(r"\1\2", text)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu, 13a tokenisation, case-insensitive) of ``hypotheses`` against one
    reference each.

    Args:
      hypotheses: the translations.
      references: the reference texts, one per hypothesis.

    Returns:
      BLEU in ``[0, 100]``.

    Raises:
      ValueError: if the two differ in number.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)], lowercase=True).score)


def vocabulary(sentences: Sequence[Sequence[str]], size: int) -> tuple[str, ...]:
    """The specials, then the ``size`` most frequent tokens of ``sentences`` (ties in order of
    first appearance).

    Args:
      sentences: tokenised sentences.
      size: at most this many tokens besides the specials.

    Returns:
      The tokens in id order.
    """
    counts = collections.Counter(token for sentence in sentences for token in sentence)
    return SPECIALS + tuple(token for token, _ in counts.most_common(size))


def encode(sentences: Sequence[Sequence[str]], vocab: Sequence[str], width: int, start: bool) -> np.ndarray:
    """Token ids ``[N, width]``: each sentence's ids (unknown for tokens not in ``vocab``), after
    a start token if ``start``, padded with 0 (the caller keeps sentences that fit).

    Args:
      sentences: tokenised sentences.
      vocab: tokens in id order (:func:`vocabulary`).
      width: the columns.
      start: put the start token first.

    Returns:
      int32 ids ``[len(sentences), width]``.
    """
    ids = {token: index for index, token in enumerate(vocab)}
    array = np.zeros((len(sentences), width), np.int32)
    for row, sentence in enumerate(sentences):
        tokens = ([START] if start else []) + [ids.get(token, UNKNOWN) for token in sentence]
        array[row, : len(tokens)] = tokens
    return array


@dataclasses.dataclass(frozen=True)
class Translation(base.Task):
    """Translate ``source`` verses into ``target`` ones (the languages of ``dataset``)."""

    dataset: str = "bible_es_en"
    source: str = "spanish"
    target: str = "english"
    source_vocab: int = 8_000
    target_vocab: int = 8_000
    max_length: int = 50

    metric = "bleu"
    architecture = "seq2seq"

    def __post_init__(self) -> None:
        checks.one_of(self.dataset, DATASETS, "dataset")
        checks.one_of(self.source, LANGUAGES, "source")
        checks.one_of(self.target, LANGUAGES, "target")
        if self.source == self.target:
            raise ValueError(f"source and target must be different languages, both are {self.source!r}")
        for field in ("source_vocab", "target_vocab", "max_length"):
            checks.positive_int(getattr(self, field), field)

    @functools.cached_property
    def _pairs(self) -> dict[str, tuple[list[str], list[str]]]:
        """Per split, the (source, target) texts of the pairs kept."""
        arrays = data.load(self.dataset)
        pairs = {}
        for split in SPLITS:
            texts = zip(
                data.bible.texts(arrays, self.source, split),
                data.bible.texts(arrays, self.target, split),
                strict=True,
            )
            kept = [
                (source, target)
                for source, target in texts
                if max(len(tokenize(source)), len(tokenize(target))) <= self.max_length
            ]
            pairs[split] = ([source for source, _ in kept], [target for _, target in kept])
        return pairs

    @functools.cached_property
    def vocabs(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(source vocabulary, target vocabulary)``, tokens in id order, from training pairs."""
        sources, targets = self._pairs["train"]
        return (
            vocabulary([tokenize(text) for text in sources], self.source_vocab),
            vocabulary([tokenize(text) for text in targets], self.target_vocab),
        )

    @property
    def vocab_size(self) -> int:
        """The source vocabulary's size: inputs are ids in ``[0, vocab_size)``."""
        return len(self.vocabs[0])

    @property
    def output_size(self) -> int:
        """The target vocabulary's size, one logit per token."""
        return len(self.vocabs[1])

    def sizes(self) -> dict[str, int]:
        """The pairs kept per split.

        Returns:
          ``{split: pairs}``.
        """
        return {split: len(sources) for split, (sources, _) in self._pairs.items()}

    def arrays(self, split: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The model's inputs and the targets of every pair of ``split``.

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.

        Returns:
          ``({'source': [N, L], 'source_lengths': [N], 'target_inputs': [N, L + 1]}, targets
          [N, L + 1])``, int32, ``L = max_length``.
        """
        return self._arrays[checks.one_of(split, SPLITS, "split")]

    @functools.cached_property
    def _arrays(self) -> dict[str, tuple[dict[str, np.ndarray], np.ndarray]]:
        """:meth:`arrays` of every split."""
        source_vocab, target_vocab = self.vocabs
        arrays = {}
        for split, (sources, targets) in self._pairs.items():
            source_tokens = [tokenize(text) for text in sources]
            target_tokens = [tokenize(text) for text in targets]
            inputs = {
                "source": encode(source_tokens, source_vocab, self.max_length, start=False),
                "source_lengths": np.array([len(tokens) for tokens in source_tokens], np.int32),
                "target_inputs": encode(target_tokens, target_vocab, self.max_length + 1, start=True),
            }
            shifted = np.zeros_like(inputs["target_inputs"])
            shifted[:, :-1] = inputs["target_inputs"][:, 1:]
            shifted[np.arange(len(targets)), [len(tokens) for tokens in target_tokens]] = END
            arrays[split] = (inputs, shifted)
        return arrays

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[base.Batch]:
        """``(inputs, targets)`` batches of ``split`` (:meth:`arrays`' rows): endless
        epoch-shuffled ones for ``'train'``, one ordered pass otherwise.

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.
          batch_size: pairs per batch.
          key: the PRNG key of the training batches; needed for ``'train'``.
          start_step: the first training batch.

        Yields:
          ``(inputs, targets)`` as :meth:`arrays` gives them, ``batch_size`` rows each (a
          held-out split's last batch may be smaller).
        """
        yield from base.array_batches(split, self.arrays(split), batch_size, key, start_step)

    def loss(self, outputs: jax.Array | softmax.Readout, targets: jax.Array) -> jax.Array:
        """Mean cross-entropy over the real target tokens (padding masked).

        Args:
          outputs: logits ``[B, T, V]``, or the readout that gives them.
          targets: ids ``[B, T]``, 0 for padding.

        Returns:
          The scalar loss.
        """
        return self.loss_and_metrics(outputs, targets)[0]

    def metrics(self, outputs: jax.Array | softmax.Readout, targets: jax.Array) -> dict[str, jax.Array]:
        """Cross-entropy and token accuracy, means over real target tokens, and their ``count``.

        Args:
          outputs: logits ``[B, T, V]``, or the readout that gives them.
          targets: ids ``[B, T]``, 0 for padding.

        Returns:
          ``{'cross_entropy', 'token_accuracy', 'count'}``.
        """
        return self.loss_and_metrics(outputs, targets)[1]

    def loss_and_metrics(
        self, outputs: jax.Array | softmax.Readout, targets: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """:meth:`loss` and :meth:`metrics`, sharing the cross-entropy.

        Args:
          outputs: logits ``[B, T, V]``, or the readout that gives them (``model.readout =
            'blocked'``: computed block by block, :mod:`irnn_jax.core.softmax`).
          targets: ids ``[B, T]``, 0 for padding.

        Returns:
          ``(loss, metrics)``; a token counts as predicted when no other token scores higher.
        """
        real = targets != PAD
        if isinstance(outputs, softmax.Readout):
            scores = softmax.cross_entropy(outputs, jnp.where(real, targets, -1))
            total, predicted = scores.cross_entropy, scores.predicted
        else:
            highest = jnp.max(outputs, axis=-1)
            losses = optax.softmax_cross_entropy_with_integer_labels(outputs, targets)
            target_logits = jnp.take_along_axis(outputs, targets[..., None], axis=-1)[..., 0]
            total = jnp.sum(jnp.where(real, losses, 0.0))
            predicted = jnp.sum(real & (target_logits >= highest))
        count = jnp.sum(real, dtype=jnp.float32)
        cross_entropy = total / jnp.maximum(count, 1.0)
        return cross_entropy, {
            "cross_entropy": cross_entropy,
            "token_accuracy": predicted / jnp.maximum(count, 1.0),
            "count": count,
        }

    def complete_metrics(self, means: dict[str, float]) -> dict[str, float]:
        """The means with ``perplexity``, ``exp`` of the mean cross-entropy, added.

        Args:
          means: held-out means, ``cross_entropy`` among them.

        Returns:
          A new dict with ``perplexity`` too.
        """
        return {**means, "perplexity": math.exp(min(means["cross_entropy"], 700.0))}

    def translate(self, model: Any, params: Any, split: str) -> list[str]:
        """Greedy translations of every source verse of ``split``, detokenised.

        Args:
          model: the :class:`irnn_jax.models.Seq2Seq`.
          params: its parameters.
          split: ``'train'``, ``'valid'`` or ``'test'``.

        Returns:
          One text per pair, in order.
        """
        inputs, _ = self.arrays(split)
        return self._decode(model, params, inputs["source"], inputs["source_lengths"])

    def translate_texts(self, model: Any, params: Any, texts: Sequence[str]) -> list[str]:
        """Greedy translations of any texts in the source language, detokenised: words outside
        the source vocabulary read as unknown, and a translation stops at ``max_length + 1``
        tokens (longer sources are read whole).

        Args:
          model: the :class:`irnn_jax.models.Seq2Seq`.
          params: its parameters.
          texts: the texts, each with at least one word.

        Returns:
          One text per text, in order.

        Raises:
          TypeError: ``texts`` is one string rather than a sequence of them.
          ValueError: a text has no word.
        """
        if isinstance(texts, str):
            raise TypeError(
                f"texts must be a sequence of strings, got one string {texts!r}; wrap it in a list"
            )
        tokens = [tokenize(text) for text in texts]
        for text, words in zip(texts, tokens, strict=True):
            if not words:
                raise ValueError(f"every text needs at least one word to translate, got {text!r}")
        if not tokens:
            return []
        # at least max_length columns, so that texts of the usual lengths share one compiled decoder
        width = max(self.max_length, *map(len, tokens))
        source = encode(tokens, self.vocabs[0], width, start=False)
        return self._decode(model, params, source, np.array([len(words) for words in tokens], np.int32))

    def _decode(self, model: Any, params: Any, source: np.ndarray, lengths: np.ndarray) -> list[str]:
        """The detokenised greedy translations of source ids ``[N, L]`` of ``lengths`` tokens."""
        vocab, decode = self.vocabs[1], _greedy(model, self.max_length + 1)
        texts = []
        for start in range(0, len(source), DECODE_BATCH):
            rows = slice(start, start + DECODE_BATCH)
            ids = np.asarray(decode(params, source[rows], lengths[rows]))
            for row in ids.tolist():
                row = row[: row.index(END)] if END in row else row
                texts.append(detokenize([vocab[token] for token in row]))
        return texts

    def generated_metrics(self, model: Any, params: Any, split: str) -> dict[str, float]:
        """BLEU of the greedy translations of ``split`` against its reference verses.

        Args:
          model: the :class:`irnn_jax.models.Seq2Seq`.
          params: its parameters.
          split: ``'valid'`` or ``'test'``.

        Returns:
          ``{'bleu': corpus BLEU}``.
        """
        return {"bleu": bleu(self.translate(model, params, split), self._pairs[split][1])}

    def examples(self, model: Any, params: Any) -> list[dict[str, str]]:
        """:data:`EXAMPLES` test verses, evenly spaced, with their references and translations.

        Args:
          model: the :class:`irnn_jax.models.Seq2Seq`.
          params: its parameters.

        Returns:
          ``{'source', 'reference', 'translation'}`` per verse.
        """
        sources, references = self._pairs["test"]
        translations = self.translate(model, params, "test")
        rows = sorted(set(np.linspace(0, len(sources) - 1, EXAMPLES).astype(int).tolist()))
        return [
            {"source": sources[row], "reference": references[row], "translation": translations[row]}
            for row in rows
        ]

    @functools.cached_property
    def baseline(self) -> float:
        """The test BLEU of the source verses copied unchanged."""
        sources, targets = self._pairs["test"]
        return bleu(sources, targets)

    def references(self, split: str) -> tuple[list[str], list[str]]:
        """The ``(source, target)`` verses of the pairs kept in ``split``.

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.

        Returns:
          Two lists of texts, in order.
        """
        return self._pairs[checks.one_of(split, SPLITS, "split")]


@functools.lru_cache(maxsize=8)
def _greedy(model: Any, length: int) -> Any:
    """``model``'s jitted greedy decoder of ``length`` tokens, compiled once per model."""

    def decode(params: Any, source: jax.Array, lengths: jax.Array) -> jax.Array:
        return model.apply({"params": params}, source, lengths, START, length, method="greedy")

    return jax.jit(decode)
