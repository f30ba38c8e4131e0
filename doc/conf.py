"""Sphinx configuration for skreg's documentation.

Build (from the repository root)::

    pip install ".[docs]"
    sphinx-build -W --keep-going -b html doc doc/_build/html

The gallery in ``examples/`` is executed during the build.
"""

import logging
import sys
from pathlib import Path

DOC_DIR = Path(__file__).resolve().parent
# Document, and run the gallery against, the checked-out source even when an
# older skreg is installed; this also shares the test suite's Numba cache.
sys.path.insert(0, str(DOC_DIR.parent))
# Local helpers for the build (the gallery's order).
sys.path.insert(0, str(DOC_DIR / "sphinxext"))

from docutils import nodes  # noqa: E402

import skreg  # noqa: E402  (needs the path above)

project = "skreg"
copyright = "2026, the skreg developers"
author = "the skreg developers"
version = release = skreg.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # Ships MathJax into _static, so that formulas render without network
    # access (the docs are built and read locally; MathJax's CDN is not
    # always reachable). The module name has hyphens.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
default_role = "literal"

# -- autodoc / autosummary / numpydoc ---------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
# The class template lists the methods itself; numpydoc's own member tables
# would document every method a second time.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Turn the names in parameter types into links (plain text where an
# inventory is missing). Each word becomes a reference, so a type such as
# "ndarray of shape (n_features_in_,)" is no longer read as the reST hyperlink
# reference ``n_features_in_``.
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    # numpydoc's own alias shows "numpy:array_like" where it cannot link.
    "array-like": ":term:`array-like <numpy:array_like>`",
    "RandomState": "numpy.random.RandomState",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure",
    "Line2D": "matplotlib.lines.Line2D",
    "TrainingCurveDisplay": "skreg.TrainingCurveDisplay",
}
numpydoc_xref_ignore = {"of", "or", "shape", "default", "optional", "instance", "matplotlib"}

# -- intersphinx -------------------------------------------------------------

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
}
# Fail fast where the inventories cannot be reached (see _OfflineInventories).
intersphinx_timeout = 5

# -- sphinx-gallery ------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.ReadingOrder",
    # Links from the code in examples to the API pages, and "Examples using
    # this" lists on the API pages.
    "doc_module": ("skreg",),
    "backreferences_dir": "generated/backreferences",
    # A failing example fails the build.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skreg {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
# Pages without sub-pages have nothing to show in the left sidebar.
html_sidebars = {
    page: []
    for page in [
        "install",
        "quickstart",
        "user_guide",
        "migrating",
        "benchmarks",
        "contributing",
        "changelog",
    ]
}
html_show_sourcelink = False


class _OfflineInventories(logging.Filter):
    """Report an unreachable intersphinx inventory as information.

    Sphinx warns when it cannot download an inventory, and ``-W`` turns that
    warning into a failed build, so an offline machine (CI reaches package
    registries only) could not build the docs at all. With this filter the
    build goes on, and :func:`_unreachable_inventory_reference` renders the
    references into that inventory as plain text. Online, nothing changes.
    """

    def filter(self, record):
        if record.levelno == logging.WARNING and str(record.msg).startswith(
            "failed to reach any of the inventories"
        ):
            record.levelno = logging.INFO
            record.levelname = "INFO"
            record.nonl = False
            record.msg = (
                "intersphinx inventory not reachable (offline?); its "
                "references are rendered as plain text: " + str(record.msg)
            )
        return True


def _unreachable_inventory_reference(app, env, node, contnode):
    """Render a reference into an inventory that could not be loaded as text.

    Two kinds of references can only be resolved through an inventory:
    explicit ones such as numpydoc's ``:term:`numpy:array_like``` for
    "array-like", and the labels and glossary terms of scikit-learn's own
    documentation (``metadata_routing``, ``meta-estimator``) in the
    docstrings skreg inherits from scikit-learn (``score``, ``get_params``,
    ``set_fit_request``, ...). This handler runs after intersphinx, so it
    sees only references intersphinx could not resolve, and it takes only
    those whose inventory is missing. Every other broken reference still
    fails the build.
    """
    from sphinx.ext.intersphinx import InventoryAdapter

    loaded = InventoryAdapter(env).named_inventory
    target = node.get("reftarget", "")
    prefix = target.split(":", 1)[0] if ":" in target else None
    if prefix in app.config.intersphinx_mapping and prefix not in loaded:
        # Show "float", as a resolved reference would, not "python:float".
        text = contnode.astext()
        if text.startswith(prefix + ":"):
            contnode = contnode.deepcopy()
            contnode.children = [nodes.Text(text[len(prefix) + 1 :])]
        return contnode
    inherited = "docstring of sklearn." in (node.source or "")
    if inherited and node.get("refdomain") == "std" and "sklearn" not in loaded:
        return contnode
    return None


def setup(app):
    logging.getLogger("sphinx.sphinx.ext.intersphinx").addFilter(_OfflineInventories())
    # After intersphinx (priority 500), which resolves what it can.
    app.connect("missing-reference", _unreachable_inventory_reference, priority=900)
