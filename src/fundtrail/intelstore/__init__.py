"""The intel store: organisations, keys, indicators, sightings, the audit log, and the
tables other parts add (cases, screening), through SQLAlchemy 2 and Alembic.

    from fundtrail.intelstore import open_store
    store = open_store()            # FUNDTRAIL_DATABASE_URL or the workspace's SQLite
    with store.session() as s:      # writes (committed on success)
        ...
    with store.read_session() as s: # reads
        ...

Every read of indicators filters with ``visibility.visible_to(org_id)``; every write
calls ``audit.record(...)``.
"""

from fundtrail.intelstore.db import IntelStore, open_store, session

__all__ = ["IntelStore", "open_store", "session"]
