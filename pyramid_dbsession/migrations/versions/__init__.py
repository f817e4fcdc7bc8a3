"""Revisions of the ``pyramid_dbsession`` branch."""
