"""Alembic migrations of ``core_sessions``, branch label ``pyramid_dbsession``.

Run them on their own with ``script_location = pyramid_dbsession:migrations``,
or add ``pyramid_dbsession:migrations/versions`` to a project's
``version_locations``; see docs/production.md.
"""
