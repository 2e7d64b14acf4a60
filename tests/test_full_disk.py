"""A write the file system refuses (no space left) is one clear error; every checkpoint saved
before it stays restorable, no partial file is left, and the run resumes once space is freed."""

import builtins
import contextlib
import errno
import io
import json
import pathlib
import threading
import time

import jax
import numpy as np
import pytest

from irnn_jax import cli
from irnn_jax import config as config_lib
from irnn_jax.core.errors import WorkdirError
from irnn_jax.training import checkpoint, train
from irnn_jax.training import workdir as workdir_lib

from .helpers import ADDING_CONFIG

STEPS = 30
OVERRIDES = [
    "task.held_out_size=64",
    f"train.steps={STEPS}",
    "train.log_every=5",
    "train.eval_every=10",
    "train.eval_batch_size=64",
    "train.checkpoint_every=10",
    "train.keep_checkpoints=5",
    "train.keep_best='mse'",
]


def tiny_config():
    config = config_lib.load(f"{ADDING_CONFIG}:T=8")
    for assignment in OVERRIDES:
        config_lib.override(config, assignment)
    return config


class FullFile:
    """A file on a full disk: a write stores half of its data, then fails with ENOSPC."""

    def __init__(self, file):
        self.file = file

    def write(self, data):
        self.file.write(data[: len(data) // 2])
        self.file.flush()
        raise OSError(errno.ENOSPC, "No space left on device", self.file.name)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()


class FullDisk:
    """``open`` whose files opened for writing are full (:class:`FullFile`) from its
    ``fail_at``-th call on (0: never), counting the calls: every write a run makes through
    Python (its log, JSON files, orbax's metadata, numpy's archives). The file is opened for
    real first, so a mode that truncates or creates it does."""

    def __init__(self, fail_at=0):
        self.fail_at, self.calls, self.real_open = fail_at, 0, builtins.open

    def __call__(self, file, mode="r", *args, **kwargs):
        opened = self.real_open(file, mode, *args, **kwargs)
        if any(letter in mode for letter in "wax+"):
            self.calls += 1
            if self.fail_at and self.calls >= self.fail_at:
                return FullFile(opened)
        return opened


def patch_open(patch, replacement):
    """Route Python's opens through ``replacement``: ``open`` and ``io.open`` (pathlib's)."""
    patch.setattr(builtins, "open", replacement)
    patch.setattr(io, "open", replacement)


def params_of(state):
    return [np.asarray(leaf) for leaf in jax.tree.leaves(state.params)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run's final parameters and how many writes it made through ``open``
    (counted in a second run: the first in a process also writes caches)."""
    for _ in range(2):
        counter = FullDisk()
        with pytest.MonkeyPatch.context() as patch:
            patch_open(patch, counter)
            fitted = train.fit(tiny_config(), tmp_path_factory.mktemp("reference"), log=lambda line: None)
    return params_of(fitted.state), counter.calls


def assert_nothing_partial(workdir):
    leftovers = [path.name for path in workdir.rglob("*") if "tmp" in path.name]
    assert not leftovers, leftovers
    for name in (workdir_lib.METRICS_FILE, workdir_lib.CONFIG_FILE, workdir_lib.DIGESTS_FILE):
        path = workdir / name
        if path.exists() and name.endswith(".jsonl"):
            [json.loads(line) for line in path.read_text().splitlines()]
        elif path.exists():
            json.loads(path.read_text())


def assert_every_checkpoint_restores(workdir, like):
    for which in ("latest", "best"):
        manager = checkpoint.manager(workdir, keep=10, which=which)
        for step in manager.all_steps():
            restored = checkpoint.restore(manager, step, like)
            assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(restored.params))
        manager.close()


def test_the_run_makes_writes_at_many_points(reference):
    _, writes = reference
    assert writes > 40  # the log lines, config, digests, orbax's metadata of 4 + 3 checkpoints


@pytest.mark.slow
@pytest.mark.parametrize("point", [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144])
def test_a_full_disk_at_any_write_is_one_error_and_the_run_resumes_to_the_same_parameters(
    point, reference, tmp_path, monkeypatch
):
    final_params, writes = reference
    if point > writes:
        point = writes  # the last write of the run
    workdir = tmp_path / "run"
    patch_open(monkeypatch, FullDisk(point))
    refused = r"cannot write .*: no space left on device \(about [\d,]+ bytes needed\)"
    with pytest.raises(WorkdirError, match=refused):
        train.fit(tiny_config(), workdir, log=lambda line: None)
    monkeypatch.undo()  # space freed
    assert_nothing_partial(workdir)
    if checkpoint.latest_step(checkpoint.manager(workdir, keep=10)) is not None:
        assert_every_checkpoint_restores(workdir, train.load(workdir).state)
    resumed = train.fit(tiny_config(), workdir, resume=True, log=lambda line: None)
    assert all(np.array_equal(a, b) for a, b in zip(params_of(resumed.state), final_params, strict=True))


def test_a_refused_saves_directory_brought_back_by_a_late_write_is_removed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(
        checkpoint, "PARTIAL_QUIET_S", 2.0
    )  # a late write on a loaded machine lands within it
    manager = checkpoint.manager(tmp_path, keep=2)
    partial = pathlib.Path(manager.directory) / "10.orbax-checkpoint-tmp"
    partial.mkdir()

    def late_write():  # as tensorstore's threads may, after the save has raised and its directory gone
        give_up = time.monotonic() + 10
        while partial.exists() and time.monotonic() < give_up:
            time.sleep(0.001)
        with contextlib.suppress(FileNotFoundError):  # removed again between the two writes
            (partial / "d").mkdir(parents=True)
            (partial / "d" / "chunk").write_bytes(b"late")

    writer = threading.Thread(target=late_write)
    writer.start()
    checkpoint._remove_partial(manager)
    writer.join()
    assert not partial.exists()


def test_the_command_line_says_it_in_one_line_and_exits_2(reference, tmp_path, monkeypatch, capsys):
    _, writes = reference
    patch_open(monkeypatch, FullDisk(writes // 2))
    argv = ["train", "--config", f"{ADDING_CONFIG}:T=8", "--workdir", str(tmp_path / "run")]
    code = cli.main(argv + [f"--config.{item}" for item in OVERRIDES])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1, error
    assert error[0].startswith("irnn-jax: error: cannot write ") and "continue with --resume" in error[0]


def test_tensorstores_refusal_of_an_array_write_is_recognised_as_a_full_disk():
    message = (
        'RESOURCE_EXHAUSTED: Error writing "params.readout.kernel/0.0" in OCDBT database at local file '
        '"/mnt/tiny/W/checkpoints/0.orbax-checkpoint-tmp/": Failed to write 362 bytes to file 18: No space '
        "left on device [os_error_code='28']"
    )
    assert workdir_lib.storage_problem(ValueError(message)) == "no space left on device"
    assert workdir_lib.storage_problem(ValueError("shapes (3,) and (4,) differ")) is None
    read_only = OSError(errno.EROFS, "Read-only file system")
    assert workdir_lib.storage_problem(read_only) == "read-only file system"
