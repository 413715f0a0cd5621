"""The domain of Dialogue citoyen: models, the stage machine, notifications.

Plain Python and SQLAlchemy. Nothing here imports Flask's request machinery or Celery:
callers pass a SQLAlchemy session, the acting user and ``as_of``, and commit themselves.
"""
