"""Alembic environment for running pyramid_dbsession's migrations on their own.

The database is ``sqlalchemy.url`` of the Alembic section, or else the
sessions database of the Pyramid app configured in the same file
(``dbsession.url``, falling back to ``sqlalchemy.url`` of ``[app:main]``).
Revisions are recorded in their own table, so a project's ``alembic_version``
is never touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from pyramid_dbsession.migrations import VERSION_TABLE
from pyramid_dbsession.models import metadata

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from pyramid.paster import get_appsettings

    from pyramid_dbsession.settings import parse_settings

    if config.config_file_name is None:
        raise RuntimeError("set sqlalchemy.url in the Alembic configuration: there is no .ini to read it from")
    settings = parse_settings(get_appsettings(config.config_file_name))
    return str(settings.url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
