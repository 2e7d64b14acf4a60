"""Sphinx configuration of the API reference (``make docs``; warnings are errors).

The quickstart notebook is executed on every build (myst-nb), so the page shows outputs of the
code as it is; ``IRNN_JAX_NOTEBOOK_FAST=1`` in the environment runs its short version.
"""

import importlib.metadata

project = "irnn_jax"
release = importlib.metadata.version("irnn_jax")
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "myst_nb"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "mutation"]
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
myst_heading_anchors = 3
html_theme = "alabaster"
suppress_warnings = ["myst.header"]
napoleon_use_ivar = True  # dataclass attributes documented once, as fields of their class
nb_execution_mode = "force"  # the notebook is committed without outputs
nb_execution_timeout = 900
nb_execution_raise_on_error = True  # a cell that fails fails the build
