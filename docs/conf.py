"""Sphinx configuration of the API reference (``make docs``; warnings are errors)."""

import importlib.metadata

project = "irnn_jax"
release = importlib.metadata.version("irnn_jax")
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "myst_parser"]
source_suffix = {".md": "markdown"}
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
