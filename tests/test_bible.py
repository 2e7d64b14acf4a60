import hashlib
import io
import struct
import tarfile
import zlib

import numpy as np
import pytest

from irnn_jax import data
from irnn_jax.data import bible, debs


def ztext(testaments):
    """A SWORD zText module's six files from each testament's list of slot entries (``''`` for an
    empty slot), two slots to a compressed block."""
    files = {}
    for testament in ("ot", "nt"):
        slots = testaments.get(testament, [])
        index, verses, blocks = b"", b"", b""
        for number in range(0, len(slots), 2):
            raw = b""
            for slot in slots[number : number + 2]:
                encoded = slot.encode()
                verses += struct.pack("<IIH", number // 2, len(raw), len(encoded))
                raw += encoded
            compressed = zlib.compress(raw)
            index += struct.pack("<III", len(blocks), len(compressed), len(raw))
            blocks += compressed
        files.update({f"{testament}.bzs": index, f"{testament}.bzv": verses, f"{testament}.bzz": blocks})
    return files


def chapter(book, number):
    return f'<chapter n="{number}" osisID="{book}.{number}" sID="{book}.{number}"/>'


NT = [
    "",
    "<milestone/>",  # the testament's heading
    '<div osisID="Matt" sID="b1" type="book"/><title type="main">Mateo</title>',
    chapter("Matt", 1),
    "<w>Primero</w>.",
    "",  # an empty slot: verse 2
    '<w>Tercero</w><chapter eID="Matt.1"/>',
    chapter("Matt", 2),
    "Uno &amp; dos.",
    '<div osisID="Mark" type="book"/>',  # the next book's heading, not a verse of Matt 2
    chapter("Mark", 1),
    'Principio<note type="x">una nota</note> del <title canonical="true">Salmo</title>evangelio.',
]


def test_the_reader_numbers_each_chapters_slots_from_its_marker_and_skips_book_headings():
    verses = bible.read_ztext(ztext({"nt": NT}))
    assert list(verses) == [("Matt", 1, 1), ("Matt", 1, 2), ("Matt", 1, 3), ("Matt", 2, 1), ("Mark", 1, 1)]
    assert verses[("Matt", 1, 2)] == ""
    assert bible.plain_text(verses[("Matt", 1, 3)]) == "Tercero"
    assert bible.plain_text(verses[("Matt", 2, 1)]) == "Uno & dos."


def test_plain_text_drops_notes_titles_and_tags_but_keeps_a_canonical_title():
    assert bible.plain_text(NT[-1]) == "Principio del Salmoevangelio."
    assert bible.plain_text('<title type="x">Heading</title><w a="1">In</w> <w>the</w>  beginning') == (
        "In the beginning"
    )


def test_a_block_that_does_not_decompress_is_named():
    files = ztext({"nt": NT})
    files["nt.bzz"] = b"\x00" * len(files["nt.bzz"])
    with pytest.raises(data.DataError, match=r"nt\.bzz block 0 does not decompress"):
        bible.read_ztext(files)


def verses(chapters):
    """Plain verses by key from ``{(book, chapter): [text, ...]}``."""
    return {
        (book, number, verse): text
        for (book, number), texts in chapters.items()
        for verse, text in enumerate(texts, 1)
    }


def test_alignment_drops_a_chapter_whose_verses_differ_and_the_next_when_a_verse_moved_across():
    spanish = verses(
        {
            ("Sam", 23): ["a b", "c d", ""],  # the English verse 3 is the Spanish 24:1
            ("Sam", 24): ["e f", "g h", "i j"],
            ("Sam", 25): ["k l", "m n", "o p"],
            ("Acts", 8): ["q r", "s t", "u v"],  # verse 2 missing in English: nothing shifts
            ("Acts", 9): ["w x", "y z", "a b"],
        }
    )
    english = verses(
        {
            ("Sam", 23): ["A B", "C D", "E F"],
            ("Sam", 24): ["G H", "I J", "K L"],
            ("Sam", 25): ["M N", "O P", "Q R"],
            ("Acts", 8): ["S T", "", "W X"],
            ("Acts", 9): ["Y Z", "A B", "C D"],
        }
    )
    kept = bible.align(spanish, english)
    assert {key[:2] for key in kept} == {("Sam", 25), ("Acts", 9)}
    assert len(kept) == 6


def test_alignment_drops_pairs_whose_word_counts_are_out_of_proportion():
    spanish = verses({("Gen", 1): ["uno dos tres", "uno", "uno dos tres"]})
    english = verses({("Gen", 1): ["one two three", "one two three four five", "one"]})
    # (5 + 1) / (1 + 1) = 3 > 2 and (1 + 1) / (3 + 1) = 0.5, on the bound, is kept
    assert bible.align(spanish, english) == [("Gen", 1, 1), ("Gen", 1, 3)]


def test_the_held_out_books_make_the_validation_and_test_splits(monkeypatch):
    monkeypatch.setattr(bible, "VALID_BOOKS", ("Mark",))
    monkeypatch.setattr(bible, "TEST_BOOKS", ("Missing",))
    with pytest.raises(data.DataError, match=r"held-out books \['Missing'\] are not in"):
        bible.convert(ztext({"nt": NT}), ztext({"nt": NT}))
    monkeypatch.setattr(bible, "TEST_BOOKS", ("Matt",))
    arrays = bible.convert(ztext({"nt": NT}), ztext({"nt": NT}))
    assert bible.texts(arrays, "spanish", "train") == []
    assert bible.texts(arrays, "english", "valid") == ["Principio del Salmoevangelio."]
    assert bible.texts(arrays, "spanish", "test") == ["Primero.", "Tercero", "Uno & dos."]


def test_texts_refuse_an_unknown_language_or_split(monkeypatch):
    monkeypatch.setattr(bible, "VALID_BOOKS", ("Mark",))
    monkeypatch.setattr(bible, "TEST_BOOKS", ("Matt",))
    arrays = bible.convert(ztext({"nt": NT}), ztext({"nt": NT}))
    with pytest.raises(data.DataError, match="unknown language 'french'; allowed: spanish, english"):
        bible.texts(arrays, "french")
    with pytest.raises(data.DataError, match="unknown split 'dev'; allowed: train, valid, test"):
        bible.texts(arrays, "spanish", "dev")


def fake_deb(path, files):
    """A Debian package at ``path`` (an ar archive) holding ``files`` in its ``data.tar.xz``."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w:xz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    members = [(b"debian-binary", b"2.0\n"), (b"control.tar.xz", b"x"), (b"data.tar.xz", tar.getvalue())]
    content = b"!<arch>\n"
    for name, member in members:
        content += name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2 + b"100644".ljust(8)
        content += str(len(member)).encode().ljust(10) + b"`\n" + member + b"\n" * (len(member) % 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_files_are_read_from_a_verified_deb_in_the_cache(tmp_path):
    deb = tmp_path / "debs" / "toy_1.0-1_all.deb"
    sha = fake_deb(deb, {"usr/share/toy/a.txt": b"alpha", "usr/share/toy/b.txt": b"beta", "usr/x": b"x"})
    source = debs.DebFiles("toy", "1.0-1", sha, "usr/share/toy", ("a.txt", "b.txt"))
    assert debs.read_files(source, tmp_path) == {"a.txt": b"alpha", "b.txt": b"beta"}
    missing = debs.DebFiles("toy", "1.0-1", sha, "usr/share/toy", ("a.txt", "c.txt"))
    with pytest.raises(data.DataError, match=r"toy_1\.0-1_all\.deb has no c\.txt in usr/share/toy"):
        debs.read_files(missing, tmp_path)


def test_a_deb_that_fails_its_checksum_is_deleted_and_without_apt_get_the_error_says_what_to_fetch(
    tmp_path, monkeypatch
):
    deb = tmp_path / "debs" / "toy_1.0-1_all.deb"
    fake_deb(deb, {"usr/share/toy/a.txt": b"alpha"})
    monkeypatch.setattr(debs.shutil, "which", lambda name: None)
    source = debs.DebFiles("toy", "1.0-1", "0" * 64, "usr/share/toy", ("a.txt",))
    with pytest.raises(
        data.DataError, match=r"apt-get not found: .* toy 1.0-1; download toy_1.0-1_all.deb \(sha256 0{64}\)"
    ):
        debs.read_files(source, tmp_path)
    assert not deb.exists()


@pytest.fixture(scope="module")
def pairs():
    return data.load("bible_es_en")


@pytest.mark.network
def test_the_spanish_module_has_the_kjv_versifications_31102_verses():
    spanish = bible.read_ztext(debs.read_files(bible.SPANISH, data.cache_dir()))
    assert len(spanish) == 31_102
    assert bible.plain_text(spanish[("Gen", 1, 1)]) == "EN el principio crió Dios los cielos y la tierra."


@pytest.mark.network
def test_the_aligned_pairs_have_the_counted_sizes_and_known_verses(pairs):
    assert np.bincount(pairs["split"]).tolist() == [28_592, 819, 878]
    books = pairs["books"].tolist()
    keys = list(
        zip(
            np.array(books)[pairs["book"]].tolist(),
            pairs["chapter"].tolist(),
            pairs["verse"].tolist(),
            strict=True,
        )
    )
    where = keys.index(("John", 3, 16))
    assert bible.texts(pairs, "english")[where].startswith(
        "For God so loved the world, that he gave his only"
    )
    assert bible.texts(pairs, "spanish")[where].startswith("Porque de tal manera amó Dios al mundo")
    assert ("1Sam", 24, 1) not in keys and ("Acts", 9, 1) in keys  # rule 2 on the real modules
    assert {books[index] for index in pairs["book"][pairs["split"] == 2]} == {"John"}
    assert max(len(text.split()) for text in bible.texts(pairs, "english", "test")) == 57
