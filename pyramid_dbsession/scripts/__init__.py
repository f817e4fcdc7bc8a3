"""Command-line tools for running pyramid_dbsession: ``dbsession-cleanup`` and ``dbsession-initdb``."""
