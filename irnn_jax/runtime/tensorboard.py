r"""TensorBoard event files of scalars, written without TensorFlow or any other dependency.

An event file is a sequence of records, each ``uint64 length``, ``uint32 masked_crc32c(length)``,
``data``, ``uint32 masked_crc32c(data)`` (little-endian), where ``data`` is a serialised
``tensorflow.Event`` protocol buffer; the first event carries ``file_version = "brain.Event:2"``,
the others ``wall_time``, ``step`` and a ``Summary`` of ``(tag, simple_value)`` pairs, or a
``SessionLog`` whose ``START`` tells TensorBoard to forget the earlier points from that step on
(a resumed or rolled-back run overwrites them). The few
protobuf fields this needs are encoded here by hand (field numbers from TensorBoard's
``event.proto`` and ``summary.proto``). TensorBoard reads the files of ``logdir`` with
``tensorboard --logdir WORKDIR/tensorboard``.
"""

from __future__ import annotations

import math
import os
import pathlib
import socket
import struct
import time
from collections.abc import Mapping

from irnn_jax.core import checks

FILE_VERSION = "brain.Event:2"
FLOAT32_MAX = 3.4028234663852886e38


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)  # the Castagnoli polynomial, reflected
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) checksum of ``data``.

    Args:
      data: the bytes to check.

    Returns:
      The checksum, an unsigned 32-bit int.
    """
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    """TFRecord's masked CRC: rotated right by 15 bits plus a constant."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord holding ``data``.

    Args:
      data: the record's payload (a serialised :func:`event`).

    Returns:
      The record's bytes: the length, its masked CRC-32C, ``data`` and its masked CRC-32C.
    """
    header = struct.pack("<Q", len(data))
    return (
        header + struct.pack("<I", _masked(crc32c(header))) + data + struct.pack("<I", _masked(crc32c(data)))
    )


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _float32(value: float) -> float:
    """``value``, or an infinity of its sign where float32 cannot hold it (a diverging perplexity)."""
    return value if abs(value) <= FLOAT32_MAX or math.isnan(value) else math.copysign(math.inf, value)


SESSION_START = 1  # SessionLog.SessionStatus.START


def event(
    wall_time: float,
    step: int = 0,
    scalars: Mapping[str, float] | None = None,
    file_version: str = "",
    session_status: int = 0,
) -> bytes:
    """A serialised ``Event``: ``wall_time`` (field 1, double), ``step`` (2, int64), and one of
    ``file_version`` (3, string), a ``SessionLog`` (7) with its ``status`` (1, enum), or a
    ``Summary`` (5) with one ``Value`` (1) per scalar, each a ``tag`` (1, string) and a
    ``simple_value`` (2, float).

    Args:
      wall_time: the event's time, seconds since the epoch.
      step: the training step it belongs to, a non-negative int.
      scalars: ``{tag: value}`` for a ``Summary``; values float32 cannot hold become infinities of
        their sign.
      file_version: for the first event of a file, :data:`FILE_VERSION`; empty for none.
      session_status: a ``SessionLog`` status such as :data:`SESSION_START`; 0 for none.

    Returns:
      The serialised ``Event`` protocol buffer (wrap it in a :func:`record` to write it).
    """
    data = _key(1, 1) + struct.pack("<d", wall_time) + _key(2, 0) + _varint(step)
    if file_version:
        data += _bytes_field(3, file_version.encode())
    if session_status:
        data += _bytes_field(7, _key(1, 0) + _varint(session_status))
    values = b"".join(
        _bytes_field(1, _bytes_field(1, tag.encode()) + _key(2, 5) + struct.pack("<f", _float32(value)))
        for tag, value in (scalars or {}).items()
    )
    return data + (_bytes_field(5, values) if values else b"")


class EventWriter:
    """Appends scalar events to a new event file in ``logdir``, opening it for each write (as
    ``metrics.jsonl`` is), so nothing is left open when a run stops."""

    def __init__(self, logdir: str | pathlib.Path) -> None:
        logdir = pathlib.Path(logdir)
        logdir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}.irnn_jax"
        self.path = logdir / name
        self._append(record(event(time.time(), file_version=FILE_VERSION)))

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Append one event of ``{tag: value}`` at ``step``.

        Args:
          step: the training step of the values, an int >= 0.
          values: ``{tag: value}``, one scalar per tag.

        Raises:
          ValueError: for a negative or non-integer ``step`` (an event's step is unsigned).
        """
        checks.non_negative_int(step, "step")
        self._append(record(event(time.time(), step, values)))

    def restart(self, step: int) -> None:
        """Append a session start at ``step``: TensorBoard drops the points of earlier event files
        at ``step`` and after, which the run is about to write again.

        Args:
          step: the first step the run writes anew (where it resumes or rolls back to).
        """
        self._append(record(event(time.time(), step, session_status=SESSION_START)))

    def _append(self, data: bytes) -> None:
        with self.path.open("ab") as file:
            file.write(data)
