"""Sphinx configuration of the pyramid_dbsession documentation: ``make docs`` builds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pylons_sphinx_themes
from pygments.lexers.special import TextLexer

import pyramid_dbsession.demo  # noqa: F401  # see below
from pyramid_dbsession import __version__

# Documenting SessionRecord's members, autodoc reads the annotations that SQLAlchemy's declarative
# base declares for type checkers only (``__table_args__``...) from its source into its
# ``__annotations__``; a mapped class declared after that fails (AttributeError: __table_args__).
# The demo's models, which a doctest uses, are therefore declared above, before autodoc runs.

if TYPE_CHECKING:
    from sphinx.application import Sphinx

project = "pyramid_dbsession"
author = "the pyramid_dbsession authors"
copyright = f"2026, {author}"
release = __version__
version = ".".join(release.split(".")[:2])

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.doctest"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
# Headings get anchors, so that pages can link to each other's sections.
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}

html_theme_path = pylons_sphinx_themes.get_html_themes_path()
html_theme = "pyramid"
html_title = f"{project} {release}"


def setup(app: Sphinx) -> None:
    # Pygments has no crontab lexer: the production guide's crontab is shown as plain text.
    app.add_lexer("cron", TextLexer)
