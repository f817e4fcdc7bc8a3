"""The database side: the ``core_sessions`` table, engines from settings, the store and its cleanup.

Nothing here imports Pyramid.
"""
