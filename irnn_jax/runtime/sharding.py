"""Placement over devices with ``jax.sharding``: one mesh axis, arrays split on their leading axis.

Training shards the batch axis and replicates the state (data parallelism); sweeps shard the run
axis. ``jit`` then partitions the computation (GSPMD): the same program runs on one CPU, several
GPUs or a TPU slice. An axis that the device count does not divide stays replicated. In a job of
several processes (:mod:`irnn_jax.runtime.distributed`) the mesh spans all their devices; every process
holds the same host values and places only its own devices' share of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from irnn_jax.core.errors import ConfigError

AXIS = "devices"


def use_host_devices(count: int) -> None:
    """Expose ``count`` CPU devices (``jax_num_cpu_devices``), so that ``fit`` splits each batch
    over ``count`` cores; before JAX starts its backends. No effect on accelerators' devices.

    Args:
      count: how many CPU devices to expose, a positive int.

    Raises:
      ConfigError: ``count`` is not a positive int, or JAX's backends have started already.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"host devices must be a positive int, got {count!r}")
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError as error:  # the backends already started in this process
        raise ConfigError(f"cannot set {count} host devices now: {error}") from None


def mesh(devices: list[jax.Device] | None = None) -> Mesh:
    """A one-axis mesh over ``devices`` (default: all of them).

    Args:
      devices: the devices of the mesh, in order; ``None`` (or an empty list) for
        ``jax.devices()``, every device of every process.

    Returns:
      A ``Mesh`` with the single axis :data:`AXIS`.
    """
    return Mesh(np.array(devices or jax.devices()), (AXIS,))


def shard_leading_axis(tree: Any, device_mesh: Mesh) -> Any:
    """Put every array of ``tree`` on the mesh, split along its first axis where the device
    count divides it, replicated otherwise.

    Args:
      tree: a pytree of arrays (host or device arrays, or scalars); every process passes the
        same values.
      device_mesh: the mesh to place them on (:func:`mesh`).

    Returns:
      ``tree`` with every leaf a ``jax.Array`` placed on ``device_mesh``; scalars are replicated.
    """
    count = device_mesh.devices.size

    def place(leaf: Any) -> jax.Array:
        split = np.ndim(leaf) > 0 and np.shape(leaf)[0] % count == 0
        return _put(leaf, NamedSharding(device_mesh, PartitionSpec(AXIS) if split else PartitionSpec()))

    return jax.tree.map(place, tree)


def replicate(tree: Any, device_mesh: Mesh) -> Any:
    """Put a full copy of every array of ``tree`` on each device of the mesh.

    Args:
      tree: a pytree of arrays; every process passes the same values.
      device_mesh: the mesh to place them on (:func:`mesh`).

    Returns:
      ``tree`` with every leaf a ``jax.Array`` replicated over ``device_mesh``.
    """
    return jax.tree.map(lambda leaf: _put(leaf, NamedSharding(device_mesh, PartitionSpec())), tree)


def to_host(tree: Any, device_mesh: Mesh) -> Any:
    """Every array of ``tree`` as a whole NumPy array, in every process (gathered over the mesh).

    Args:
      tree: a pytree of arrays placed on ``device_mesh``.
      device_mesh: the mesh they are placed on.

    Returns:
      ``tree`` with every leaf a NumPy array holding the whole value.
    """
    return jax.device_get(_gather(device_mesh)(tree))


@functools.cache
def _gather(device_mesh: Mesh) -> Callable[[Any], Any]:
    return jax.jit(lambda tree: tree, out_shardings=NamedSharding(device_mesh, PartitionSpec()))


def _put(leaf: Any, target: NamedSharding) -> jax.Array:
    """``leaf`` placed as ``target`` says. Across processes, each places only the slices of its
    own devices (``jax.device_put`` of a committed array to other processes' devices is unsafe)."""
    if jax.process_count() == 1:
        return jax.device_put(leaf, target)
    host = np.asarray(leaf)
    return jax.make_array_from_callback(host.shape, target, lambda index: host[index])


def per_device(fn: Callable[..., Any], device_mesh: Mesh) -> Callable[..., Any]:
    """``fn`` run by every device on its own slice of the leading axis of all inputs and outputs
    (``jax.shard_map``); plain ``fn`` on one device.

    Args:
      fn: the function to run per device, over pytrees of arrays whose leading axis the device
        count divides.
      device_mesh: the mesh whose devices run it.

    Returns:
      ``fn`` itself on a one-device mesh; otherwise ``fn`` under ``jax.shard_map``, splitting
      every input and output along its leading axis over :data:`AXIS`.
    """
    if device_mesh.devices.size == 1:
        return fn
    spec = PartitionSpec(AXIS)
    return jax.shard_map(fn, mesh=device_mesh, in_specs=spec, out_specs=spec, check_vma=False)
