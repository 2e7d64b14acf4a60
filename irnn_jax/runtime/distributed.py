"""One job as several cooperating processes (a TPU pod slice, a multi-GPU node): ``jax.distributed``.

:func:`initialize` joins this process to the job, before JAX starts its backends: either with
an explicit coordinator, process count and process id (the arguments of
``jax.distributed.initialize``), or by letting JAX detect the cluster (TPU, SLURM, Open MPI,
Kubernetes). Afterwards ``jax.devices()`` lists every process's devices, so the meshes of
:mod:`irnn_jax.runtime.sharding` span the whole job, and each process places only its own devices'
share of every array. Every process runs the same program; only the main process
(:func:`is_main`) writes logs, records and summaries, while checkpoints are saved by all of them
through orbax. On CPUs the processes talk through JAX's gloo collectives.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
from jax.experimental import multihost_utils

from irnn_jax.core.errors import ConfigError


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    detect: bool = False,
) -> None:
    """Join this process to a multi-process job: ``coordinator_address`` (``'HOST:PORT'``),
    ``num_processes`` and ``process_id`` all given, or ``detect=True`` and none of them (JAX finds
    the cluster). Must run before anything uses a JAX device. Also selects gloo for the CPU
    devices' collectives.

    Args:
      coordinator_address: ``'HOST:PORT'`` of the coordinator (process 0), with a port in
        ``1..65535``.
      num_processes: how many processes the job has, a positive int.
      process_id: this process's index in the job, an int in ``[0, num_processes)``.
      detect: let JAX detect the cluster (TPU, SLURM, Open MPI, Kubernetes) instead; then none of
        the three arguments above may be given.

    Raises:
      ConfigError: a partial or contradictory set of arguments, a bad value, or a job JAX cannot
        join (the coordinator's error).
    """
    explicit = {
        "--coordinator": coordinator_address,
        "--num-processes": num_processes,
        "--process-id": process_id,
    }
    given = [name for name, value in explicit.items() if value is not None]
    if detect and given:
        raise ConfigError(f"--distributed detects the cluster by itself; drop {', '.join(given)}")
    if not detect and len(given) != len(explicit):
        missing = [name for name in explicit if name not in given]
        raise ConfigError(
            f"a multi-process run needs --coordinator HOST:PORT, --num-processes N and --process-id I "
            f"together (or --distributed alone); missing {', '.join(missing)}"
        )
    if not detect:
        _check_explicit(coordinator_address, num_processes, process_id)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU devices' collectives
    try:
        if detect:
            jax.distributed.initialize()
        else:
            jax.distributed.initialize(coordinator_address, num_processes, process_id)
    except (RuntimeError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"could not join the multi-process job: {first_line}") from None


def _check_explicit(coordinator_address: str, num_processes: int, process_id: int) -> None:
    host, _, port = coordinator_address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--coordinator must look like HOST:PORT, got {coordinator_address!r}")
    if isinstance(num_processes, bool) or not isinstance(num_processes, int) or num_processes < 1:
        raise ConfigError(f"--num-processes must be a positive int, got {num_processes!r}")
    if isinstance(process_id, bool) or not isinstance(process_id, int) or not 0 <= process_id < num_processes:
        raise ConfigError(
            f"--process-id must be an int in [0, {num_processes - 1}] for {num_processes} processes, "
            f"got {process_id!r}"
        )


def is_main() -> bool:
    """Whether this is the process that writes the run's files (process 0; the only one alone).

    Returns:
      True in process 0 (and in a single-process run), False in the others.
    """
    return jax.process_index() == 0


def barrier(name: str) -> None:
    """Wait until every process of the job reaches the barrier ``name`` (nothing with one process).

    Args:
      name: the barrier's name, the same in every process.
    """
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)


def main_only(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` in the main process; in the others a log that drops its messages (their errors
    are still raised).

    Args:
      log: the function that writes one log line.

    Returns:
      ``log`` itself in the main process (:func:`is_main`), a function that does nothing in the
      others.
    """
    return log if is_main() else (lambda message: None)


def any_process(flag: bool) -> bool:
    """Whether ``flag`` is true in any process of the job (an all-gather; no communication alone).

    Every process must call it at the same point of the program.

    Args:
      flag: this process's value.

    Returns:
      The logical or of every process's ``flag``, the same in all of them.
    """
    if jax.process_count() == 1:
        return bool(flag)
    return bool(np.any(multihost_utils.process_allgather(np.asarray(flag, np.bool_))))
