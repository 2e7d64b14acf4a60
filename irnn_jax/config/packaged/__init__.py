"""The papers' experiment configs, installed with the package: ``adding``, ``mnist``, ``ptb``,
``speech`` and ``tomita``, each a file with ``get_config(arg)``, loaded by name
(``irnn-jax train --config adding:T=150``) through :func:`irnn_jax.config.load`."""
