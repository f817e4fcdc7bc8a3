"""The console scripts: ``dbsession-check``, ``dbsession-cleanup`` and ``dbsession-initdb``."""
