"""Spanish-English parallel verses (``bible_es_en``) from two public-domain Bibles in Debian's
SWORD modules, aligned by (book, chapter, verse).

The sources: ``sword-text-sparv`` 2.60-1 (the Reina-Valera 1909, KJV versification) and
``sword-text-web`` 426.0-1 (an English translation, NRSVA versification). The text here is
altered (markup stripped, verses dropped), so it is not shown under the English translation's
name, which is a trademark.

Reading (:func:`read_ztext`): a SWORD zText module is ``{ot,nt}.bzs`` (12-byte records ``<III``:
offset, compressed size, raw size of a zlib block in ``.bzz``) and ``.bzv`` (10-byte records
``<IIH``: block, offset in the decompressed block, size; one per slot of the versification, size 0
an empty slot). Each chapter starts with a slot holding its ``<chapter osisID="Book.N">`` marker;
the slots after it are verses 1, 2, ..., up to the next chapter's marker, less the book heading
slot that precedes every book's chapter 1. Entries are OSIS XML; :func:`plain_text` drops
notes, titles other than canonical ones (a psalm's heading stays) and all tags.

Alignment (:func:`align`), three stated rules:

1. both verses non-empty;
2. a chapter is dropped when its two texts number their non-empty verses differently, and so is
   the next chapter of the same book when the two end at different verses: the Spanish module
   moves some verses across a chapter boundary (English 1 Sam 23:29 is its 24:1, and all of its
   chapter 24 is one verse off), which keys alone cannot see, while a verse missing inside a
   chapter (Acts 8:37, which the English omits) shifts nothing after it;
3. word counts in proportion: ``0.5 <= (english + 1) / (spanish + 1) <= 2`` (drops verses where
   one text carries extra matter, such as a glossary appended to the last verse).

Split: whole books held out, :data:`VALID_BOOKS` for validation and :data:`TEST_BOOKS` for test,
the rest for training (no official split exists; Multi30k's are about 1,000 pairs each).

Arrays: ``books`` (OSIS names in canonical order), per pair ``book`` (index into ``books``),
``chapter``, ``verse``, ``split`` (:data:`SPLITS` index), and each language's UTF-8 text
concatenated in ``<language>_bytes`` with ``<language>_offsets`` (``[pairs + 1]``); read them
with :func:`texts`.
"""

from __future__ import annotations

import collections
import html
import re
import struct
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from irnn_jax.core.errors import DataError
from irnn_jax.data.debs import DebFiles

ZTEXT_FILES = tuple(f"{testament}.{suffix}" for testament in ("ot", "nt") for suffix in ("bzs", "bzv", "bzz"))
_MODULES = "usr/share/sword/modules/texts/ztext"
SPANISH = DebFiles(
    "sword-text-sparv",
    "2.60-1",
    "5c87f9b2bc97457e8a872f5bae7ea7ce59cb3de1dcee73e4d4740451863694cf",
    f"{_MODULES}/spaRV1909eb",
    ZTEXT_FILES,
)
ENGLISH = DebFiles(
    "sword-text-web",
    "426.0-1",
    "930b23670b352f0829a306501de4bebb5e654a2df02cde2cbe86b802177868e1",
    f"{_MODULES}/engWEB2015eb",
    ZTEXT_FILES,
)
LANGUAGES = ("spanish", "english")
SPLITS = ("train", "valid", "test")
VALID_BOOKS = ("Acts",)
TEST_BOOKS = ("John",)
WORD_RATIO = (0.5, 2.0)
# Raise when the conversion below changes what it returns (the cache file's name carries it).
VERSION = 1

Key = tuple[str, int, int]
_CHAPTER_TAG = re.compile(r"<chapter\b[^>]*>")
_OSIS_ID = re.compile(r'\bosisID="([^".]+)\.(\d+)"')
_NOTE = re.compile(r"<note\b.*?</note>", re.S)
_TITLE = re.compile(r'<title\b(?![^>]*canonical="true")[^>]*>.*?</title>', re.S)
_TAG = re.compile(r"<[^>]*>")


def read_ztext(files: Mapping[str, bytes]) -> dict[Key, str]:
    """Every verse slot of a SWORD zText module, empty ones included, in the module's order.

    Args:
      files: the module's ``{ot,nt}.{bzs,bzv,bzz}`` contents by file name.

    Returns:
      ``{(book, chapter, verse): OSIS entry}``, book as its OSIS name (``'Gen'``, ``'John'``).

    Raises:
      DataError: a record points outside its file, or a block does not decompress.
    """
    verses: dict[Key, str] = {}
    for testament in ("ot", "nt"):
        slots = _slots(
            files[f"{testament}.bzs"], files[f"{testament}.bzv"], files[f"{testament}.bzz"], testament
        )
        chapters = [(index, *heading) for index, slot in enumerate(slots) if (heading := _chapter(slot))]
        for number, (start, book, chapter) in enumerate(chapters):
            end = chapters[number + 1][0] if number + 1 < len(chapters) else len(slots)
            if number + 1 < len(chapters) and chapters[number + 1][1] != book:
                end -= 1  # the next book's heading slot
            for verse, slot in enumerate(slots[start + 1 : end], start=1):
                verses[(book, chapter, verse)] = slot
    return verses


def plain_text(entry: str) -> str:
    """A verse's OSIS entry as plain text: notes, non-canonical titles and tags dropped, XML
    entities decoded, white space collapsed."""
    text = _TAG.sub("", _TITLE.sub(" ", _NOTE.sub(" ", entry)))
    return " ".join(html.unescape(text).split())


def align(spanish: Mapping[Key, str], english: Mapping[Key, str]) -> list[Key]:
    """The keys of the pairs kept by the module docstring's three rules, in canonical order.

    Args:
      spanish, english: plain verse texts by (book, chapter, verse), empty verses included.

    Returns:
      The kept keys, in ``spanish``'s order.
    """
    numbered = [_verse_numbers(texts) for texts in (spanish, english)]
    differing = {chapter for chapter in numbered[0] if numbered[0][chapter] != numbered[1].get(chapter)}
    moved = {
        (book, chapter + 1)
        for book, chapter in differing
        if max(numbered[0][(book, chapter)]) != max(numbered[1].get((book, chapter), {0}))
    }
    dropped = differing | moved
    low, high = WORD_RATIO
    return [
        key
        for key, text in spanish.items()
        if text
        and english.get(key)
        and key[:2] not in dropped
        and low <= (len(english[key].split()) + 1) / (len(text.split()) + 1) <= high
    ]


def convert(spanish_files: Mapping[str, bytes], english_files: Mapping[str, bytes]) -> dict[str, np.ndarray]:
    """The aligned, split pairs of the two modules as arrays (the module docstring's layout)."""
    spanish, english = (
        {key: plain_text(entry) for key, entry in read_ztext(files).items()}
        for files in (spanish_files, english_files)
    )
    keys = align(spanish, english)
    if not keys:
        raise DataError("no verse pairs aligned: the modules' versification was not recognised")
    books = list(dict.fromkeys(book for book, _, _ in spanish))
    unknown = sorted(set(VALID_BOOKS + TEST_BOOKS) - set(books))
    if unknown:
        raise DataError(f"held-out books {unknown} are not in the Spanish module's books {books}")
    split = [1 if book in VALID_BOOKS else 2 if book in TEST_BOOKS else 0 for book, _, _ in keys]
    arrays = {
        "books": np.array(books),
        "book": np.array([books.index(book) for book, _, _ in keys], np.int16),
        "chapter": np.array([chapter for _, chapter, _ in keys], np.int16),
        "verse": np.array([verse for _, _, verse in keys], np.int16),
        "split": np.array(split, np.int8),
    }
    for language, verses in zip(LANGUAGES, (spanish, english), strict=True):
        arrays.update(_packed(language, [verses[key] for key in keys]))
    return arrays


def texts(arrays: Mapping[str, np.ndarray], language: str, split: str | None = None) -> list[str]:
    """The verses of ``language`` (``'spanish'`` or ``'english'``), of one split or all.

    Args:
      arrays: the dataset's arrays (``irnn_jax.data.load('bible_es_en')``).
      language: one of :data:`LANGUAGES`.
      split: one of :data:`SPLITS`, or None for every pair.

    Returns:
      The texts in canonical order.

    Raises:
      DataError: for an unknown language or split.
    """
    if language not in LANGUAGES:
        raise DataError(f"unknown language {language!r}; allowed: {', '.join(LANGUAGES)}")
    if split is not None and split not in SPLITS:
        raise DataError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    content, offsets = arrays[f"{language}_bytes"].tobytes(), arrays[f"{language}_offsets"]
    chosen = (
        range(len(offsets) - 1) if split is None else np.flatnonzero(arrays["split"] == SPLITS.index(split))
    )
    return [content[offsets[i] : offsets[i + 1]].decode() for i in chosen]


def _slots(index: bytes, verses: bytes, blocks: bytes, testament: str) -> list[str]:
    """Each slot's entry (``''`` for an empty one) of one testament's three files."""
    records = [struct.unpack_from("<III", index, at) for at in range(0, len(index) - 11, 12)]
    decompressed: dict[int, bytes] = {}
    slots = []
    for at in range(0, len(verses) - 9, 10):
        block, offset, size = struct.unpack_from("<IIH", verses, at)
        if size == 0:
            slots.append("")
            continue
        if block >= len(records):
            raise DataError(f"{testament}.bzv slot {at // 10} names block {block} of {len(records)}")
        if block not in decompressed:
            start, compressed, _ = records[block]
            try:
                decompressed[block] = zlib.decompress(blocks[start : start + compressed])
            except zlib.error as error:
                raise DataError(f"{testament}.bzz block {block} does not decompress: {error}") from None
        slots.append(decompressed[block][offset : offset + size].decode("utf-8"))
    return slots


def _chapter(slot: str) -> tuple[str, int] | None:
    """The (book, chapter) whose start marker (a ``<chapter>`` tag with ``sID`` and ``osisID``;
    an end marker has ``eID``) ``slot`` holds, or None."""
    for tag in _CHAPTER_TAG.findall(slot):
        osis_id = _OSIS_ID.search(tag)
        if osis_id and " sID=" in tag:
            return osis_id.group(1), int(osis_id.group(2))
    return None


def _verse_numbers(verses: Mapping[Key, str]) -> dict[tuple[str, int], frozenset[int]]:
    """The numbers of each chapter's non-empty verses."""
    numbers: dict[tuple[str, int], set[int]] = collections.defaultdict(set)
    for (book, chapter, verse), text in verses.items():
        if text:
            numbers[(book, chapter)].add(verse)
    return {chapter: frozenset(found) for chapter, found in numbers.items()}


def _packed(language: str, verses: Sequence[str]) -> dict[str, np.ndarray]:
    encoded = [verse.encode() for verse in verses]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(verse) for verse in encoded], out=offsets[1:])
    return {
        f"{language}_bytes": np.frombuffer(b"".join(encoded), np.uint8),
        f"{language}_offsets": offsets,
    }
