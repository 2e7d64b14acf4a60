"""Datasets from pinned Debian packages: a ``.deb`` fetched with ``apt-get download`` (no root),
its sha256 checked, and files read from its ``data.tar.*`` member with our own ``ar`` reader and
Python's ``tarfile``.

The verified ``.deb`` is kept in ``$IRNN_JAX_DATA/debs``; on a system without ``apt-get`` a user
can put the file there by hand, and the checksum still decides whether it is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

from irnn_jax.core.errors import DataError
from irnn_jax.runtime import progress

_AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60


@dataclasses.dataclass(frozen=True)
class DebFiles:
    """Files in one directory of a pinned Debian package.

    Attributes:
      package: the Debian package name, e.g. ``'sword-text-web'``.
      version: its exact version, e.g. ``'426.0-1'``.
      deb_sha256: the sha256 of the ``.deb`` file.
      directory: the files' directory inside the package, without a leading ``./`` or ``/``.
      files: the file names to read from ``directory``.
    """

    package: str
    version: str
    deb_sha256: str
    directory: str
    files: tuple[str, ...]

    @property
    def deb_name(self) -> str:
        """The ``.deb`` file's name as ``apt-get download`` writes it (architecture ``all``)."""
        return f"{self.package}_{self.version}_all.deb"


def read_files(source: DebFiles, cache: pathlib.Path) -> dict[str, bytes]:
    """The bytes of each of ``source.files``, from the verified ``.deb`` (fetched if needed).

    Args:
      source: the package and the files to read.
      cache: the data cache directory; the ``.deb`` is kept in its ``debs`` folder.

    Returns:
      ``{file name: bytes}`` for every name in ``source.files``.

    Raises:
      DataError: the package cannot be fetched, fails its checksum, or lacks a file.
    """
    deb = fetch_deb(source, cache / "debs")
    members = {f"{source.directory}/{name}": name for name in source.files}
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(_data_tar(deb)), mode="r:*") as archive:
        for info in archive:
            name = members.get(info.name.removeprefix("./"))
            if name is not None and info.isfile():
                found[name] = archive.extractfile(info).read()
    missing = sorted(set(source.files) - set(found))
    if missing:
        raise DataError(f"{deb.name} has no {', '.join(missing)} in {source.directory}")
    return found


def fetch_deb(source: DebFiles, directory: pathlib.Path) -> pathlib.Path:
    """The path of the verified ``.deb`` in ``directory``, downloading it with ``apt-get download``
    if it is absent or fails its checksum."""
    target = directory / source.deb_name
    if target.exists():
        if _sha256(target.read_bytes()) == source.deb_sha256:
            return target
        target.unlink()  # a partial or different download: fetch again
    apt = shutil.which("apt-get")
    if apt is None:
        raise DataError(
            f"apt-get not found: this dataset needs the Debian package {source.package} {source.version}; "
            f"download {source.deb_name} (sha256 {source.deb_sha256}) from a Debian mirror into {directory}"
        )
    directory.mkdir(parents=True, exist_ok=True)
    requirement = f"{source.package}={source.version}"
    print(f"irnn-jax: fetching {requirement} with apt-get download into {directory} ...", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=directory) as download_dir:
        with progress.heartbeat(f"irnn-jax: still fetching {requirement}", _to_stderr):
            result = subprocess.run(
                [apt, "download", requirement], cwd=download_dir, capture_output=True, text=True, check=False
            )
        downloaded = pathlib.Path(download_dir) / source.deb_name
        if result.returncode != 0 or not downloaded.exists():
            raise DataError(
                f"`apt-get download {requirement}` failed: {result.stderr.strip()[-500:]}; "
                f"is {source.package} {source.version} in this system's package lists (apt-get update)?"
            )
        digest = _sha256(downloaded.read_bytes())
        if digest != source.deb_sha256:
            raise DataError(f"{source.deb_name} has sha256 {digest}, expected {source.deb_sha256}")
        downloaded.replace(target)
    return target


def _data_tar(deb: pathlib.Path) -> bytes:
    """The ``data.tar.*`` member of the ``ar`` archive ``deb``."""
    content = deb.read_bytes()
    if not content.startswith(_AR_MAGIC):
        raise DataError(f"{deb} is not a Debian package (no ar header)")
    offset = len(_AR_MAGIC)
    while offset + _AR_HEADER <= len(content):
        header = content[offset : offset + _AR_HEADER]
        name = header[:16].decode("ascii").strip().removesuffix("/")
        size = int(header[48:58].decode("ascii"))
        start = offset + _AR_HEADER
        if name.startswith("data.tar"):
            return content[start : start + size]
        offset = start + size + size % 2  # members are padded to an even offset
    raise DataError(f"{deb} has no data.tar member")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
