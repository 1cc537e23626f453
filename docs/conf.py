"""Sphinx configuration of the skcrowd documentation.

Build it with ``scripts/build_docs.sh`` (``python -m sphinx -W --keep-going
-b html docs docs/_build/html``). Needs the ``docs`` extra:
``pip install -e ".[docs]"``. Nothing is downloaded: no intersphinx, the
built-in alabaster theme.
"""

import os
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "sphinxext"))

import skcrowd_docs  # noqa: E402

import skcrowd  # noqa: E402

# The gallery never talks to a database: an example that can use MongoDB
# (MONGODB_URI, else a server on the default port) runs its in-memory part
# only. When a server does listen on the default port, point the examples at
# a closed port instead, so that the rendered output never depends on it.
os.environ.pop("MONGODB_URI", None)
try:
    socket.create_connection(("127.0.0.1", 27017), timeout=0.2).close()
except OSError:
    pass
else:
    os.environ["MONGODB_URI"] = "mongodb://127.0.0.1:9/?directConnection=true"
os.environ.setdefault("MPLBACKEND", "Agg")

# -- pages generated from the code (API lists, tables, --help) ------------
_PROBLEMS, _MISSING_EXAMPLES, _TAGS = skcrowd_docs.generate(HERE)
for _tag in sorted(_TAGS):
    tags.add(_tag)  # noqa: F821 - Sphinx puts ``tags`` in this namespace

# -- project --------------------------------------------------------------
project = "skcrowd"
author = "skcrowd developers"
copyright = f"{time.strftime('%Y')}, {author}"  # noqa: A001
release = skcrowd.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "api/generated/*.examples",
                    "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.codeobj.json", "sg_execution_times.rst"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc --------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    # every examples/plot_*.py is run and rendered; other files are listed
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skcrowd",),
    "backreferences_dir": "api/generated/backreferences",
    "inspect_global_variables": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "show_signature": False,
    "download_all_examples": False,
    "first_notebook_cell": None,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": ("__repr__",),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "write_computation_times": False,
}

# -- HTML --------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skcrowd {release}"
html_static_path = []
html_theme_options = {
    "description": "Learning from crowdsourced labels, as scikit-learn "
                   "estimators",
    "fixed_sidebar": True,
    "page_width": "1180px",
    "sidebar_width": "250px",
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html",
                        "searchbox.html"]}
html_show_sourcelink = False


# Every public class and function should have an Examples section. Set
# SKCROWD_DOCS_STRICT_EXAMPLES=1 to make a missing one fail a -W build;
# otherwise the names are listed in the build log.
STRICT_EXAMPLES = os.environ.get("SKCROWD_DOCS_STRICT_EXAMPLES", "0") == "1"


def _report_generation_problems(app):
    from sphinx.util import logging

    logger = logging.getLogger("skcrowd_docs")
    for message in _PROBLEMS:
        logger.warning(message, type="skcrowd", subtype="api")
    if _MISSING_EXAMPLES:
        text = ("public names without an Examples section: "
                + ", ".join(_MISSING_EXAMPLES))
        if STRICT_EXAMPLES:
            logger.warning(text, type="skcrowd", subtype="examples")
        else:
            logger.info(f"[skcrowd_docs] {text}")


def setup(app):
    app.connect("builder-inited", _report_generation_problems)
    # before numpydoc (priority 500) rewrites the docstrings
    app.connect("autodoc-process-docstring",
                skcrowd_docs.escape_type_underscores, priority=400)
    app.connect("autodoc-skip-member", skcrowd_docs.skip_sklearn_routing)
    app.connect("missing-reference", skcrowd_docs.resolve_alias)
