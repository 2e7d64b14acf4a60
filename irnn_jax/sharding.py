"""Placement over devices with ``jax.sharding``: one mesh axis, arrays split on their leading axis.

Training shards the batch axis and replicates the state (data parallelism); sweeps shard the run
axis. ``jit`` then partitions the computation (GSPMD): the same program runs on one CPU, several
GPUs or a TPU slice. An axis that the device count does not divide stays replicated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from irnn_jax.errors import ConfigError

AXIS = "devices"


def use_host_devices(count: int) -> None:
    """Expose ``count`` CPU devices (``jax_num_cpu_devices``), so that ``fit`` splits each batch
    over ``count`` cores; before JAX starts its backends. No effect on accelerators' devices."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"host devices must be a positive int, got {count!r}")
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError as error:  # the backends already started in this process
        raise ConfigError(f"cannot set {count} host devices now: {error}") from None


def mesh(devices: list[jax.Device] | None = None) -> Mesh:
    """A one-axis mesh over ``devices`` (default: all of them)."""
    return Mesh(np.array(devices or jax.devices()), (AXIS,))


def shard_leading_axis(tree: Any, device_mesh: Mesh) -> Any:
    """Put every array of ``tree`` on the mesh, split along its first axis where the device
    count divides it, replicated otherwise."""
    count = device_mesh.devices.size

    def place(leaf: Any) -> jax.Array:
        split = np.ndim(leaf) > 0 and np.shape(leaf)[0] % count == 0
        spec = PartitionSpec(AXIS) if split else PartitionSpec()
        return jax.device_put(leaf, NamedSharding(device_mesh, spec))

    return jax.tree.map(place, tree)


def replicate(tree: Any, device_mesh: Mesh) -> Any:
    """Put a full copy of every array of ``tree`` on each device of the mesh."""
    return jax.device_put(tree, NamedSharding(device_mesh, PartitionSpec()))


def per_device(fn: Callable[..., Any], device_mesh: Mesh) -> Callable[..., Any]:
    """``fn`` run by every device on its own slice of the leading axis of all inputs and outputs
    (``jax.shard_map``); plain ``fn`` on one device."""
    if device_mesh.devices.size == 1:
        return fn
    spec = PartitionSpec(AXIS)
    return jax.shard_map(fn, mesh=device_mesh, in_specs=spec, out_specs=spec, check_vma=False)
