"""Sphinx configuration for the skxsim documentation."""

import os
import sys

try:
    import skxsim
except ImportError:  # building from a checkout without installing
    sys.path.insert(0, os.path.abspath(".."))
    import skxsim

project = "skxsim"
author = "skxsim developers"
copyright = "skxsim developers"
release = skxsim.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

templates_path = ["_templates"]
exclude_patterns = ["_build", "gen_modules/*.examples", "**.ipynb_checkpoints"]

html_theme = "pydata_sphinx_theme"
html_title = f"skxsim {release}"
html_theme_options = {"navigation_with_keys": False}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}
