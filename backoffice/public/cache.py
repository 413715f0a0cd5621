"""The public pages, rendered once for every anonymous visitor until what they show changes.

Anonymous visitors all read the same page, so it is rendered once and kept in a shared store
(Redis; without Redis, files in the instance folder that the web and the workers share) under
its address and the *generations* of what it shows:

- ``slug:<slug>``, bumped after every commit that changed what a démarche's pages show (the
  démarche, its items, contributions, decisions, events and registrations, deadlines, syntheses,
  stages, evaluation, label) — by its address, so that serving a page asks nothing of the database;
- ``shared``, bumped when something every page may show changed (a department, an elected
  official's name, a participant's name or erasure, the charter, a method of the toolbox, a
  new edition of the guide's PDF);
- ``any``, bumped with either, for the pages that list every démarche.

A changed record thus never shows an old page: the generation moves on right after the commit,
in the web as in the workers. A page is also kept at most ``PUBLIC_CACHE_SECONDS``, since it
shows the time (open registrations, late deadlines). Signed-in visitors, visitors with a
message to see, other answers than 200 and addresses outside the view's own (a page number out
of range) are never cached. The session's CSRF token is put back into the page each time it is
served. If the store does not answer, pages are rendered as if there were none (a warning in
the log) and the store is tried again a few seconds later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from itertools import chain
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cachelib import BaseCache, FileSystemCache, RedisCache
from flask import Flask, Response, current_app, g, request, session
from flask_security import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from workflows.after_commit import after_commit_each
from workflows.models import (
    CharterRule,
    CharterVersion,
    Contribution,
    Deadline,
    Demarche,
    Department,
    Event,
    FrozenEvaluation,
    GuideDocument,
    Item,
    ItemDecision,
    LabelAward,
    LabelRules,
    Mailing,
    Method,
    Participant,
    PlannedMethod,
    Registration,
    StageTransition,
    SurveyAnswer,
    Synthesis,
    UsedMethod,
    User,
)

from ..after_commit import handle_here

log = logging.getLogger(__name__)

EXTENSION = "public_cache"
BUMP = "public_cache.bump"  # the after-commit job: the generations a transaction moves on
CSRF_HOLE = "\x00csrf-token\x00"
NONCE_HOLE = "\x00csp-nonce\x00"
RETRY_AFTER = 5.0  # seconds without the store once it failed

# What the public pages show, per démarche; ``None``: any change of the row counts, else only
# changes of the named attributes.
PER_DEMARCHE: dict[type, tuple[str, ...] | None] = {
    Demarche: None,
    Item: None,
    Contribution: None,
    ItemDecision: None,
    Event: None,
    Registration: ("status",),
    StageTransition: None,
    Deadline: None,
    Synthesis: None,
    PlannedMethod: None,
    UsedMethod: None,
    FrozenEvaluation: None,
    LabelAward: None,
    # The experience dimension of a closed démarche's evaluation is read live from the survey.
    SurveyAnswer: None,
    Mailing: ("status",),
}
# What any public page may show, whatever the démarche.
SHARED: dict[type, tuple[str, ...] | None] = {
    Department: ("name",),
    User: ("name", "position"),
    Participant: ("name", "erased_at"),
    CharterVersion: None,
    CharterRule: None,
    Method: None,  # the toolbox's pages, and the methods a démarche names
    GuideDocument: ("made_at",),  # the guide's page links to the latest edition of its PDF
    LabelRules: None,  # the label's page shows the rules in force
}
TABLES = {cls.__tablename__: cls for cls in chain(PER_DEMARCHE, SHARED)}  # type: ignore[attr-defined]


class PageStore:
    """The pages and the generations, in a cachelib store that may go away for a while."""

    def __init__(self, backend: BaseCache, seconds: int) -> None:
        self.backend = backend
        self.seconds = seconds
        self.away_until = 0.0

    def _call(self, method: str, *args: Any) -> Any:
        if time.monotonic() < self.away_until:
            return None
        try:
            return getattr(self.backend, method)(*args)
        except Exception:  # noqa: BLE001 - a cache never fails a page
            log.warning("the public page cache does not answer; pages are rendered", exc_info=True)
            self.away_until = time.monotonic() + RETRY_AFTER
            return None

    def generations(self, scopes: tuple[str, ...]) -> list[int] | None:
        keys = [f"gen:{scope}" for scope in scopes]
        values = self._call("get_many", *keys)
        if values is None:
            return None
        for i, value in enumerate(values):
            if value is None:
                # Never seen, or expired: start from the clock, past any value an earlier
                # life of this counter had. It lives as long as a page (an unknown address
                # leaves nothing behind for long); a bump keeps it.
                self._call("add", keys[i], time.time_ns(), self.seconds)
                values[i] = self._call("get", keys[i])
                if values[i] is None:
                    return None
        return [int(v) for v in values]

    def bump(self, scopes: Iterable[str]) -> None:
        for scope in scopes:
            self._call("inc", f"gen:{scope}")

    def get(self, key: str) -> tuple[str, str | None] | None:
        return self._call("get", key)

    def put(self, key: str, page: tuple[str, str | None]) -> None:
        self._call("set", key, page, self.seconds)

    def clear(self) -> None:
        self._call("clear")


def backend(url: str, seconds: int) -> BaseCache | None:
    """``redis://…``, ``file:///folder`` or ``none``."""
    if not url or url == "none" or seconds <= 0:
        return None
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        return RedisCache(host=client, key_prefix="dialogue:public:", default_timeout=seconds)
    if url.startswith("file://"):
        folder = Path(urlsplit(url).path)
        folder.mkdir(parents=True, exist_ok=True)
        return FileSystemCache(str(folder), threshold=5000, default_timeout=seconds, mode=0o600)
    raise ValueError(f"PUBLIC_CACHE_URL: redis://…, file:///… or none, not {url!r}")


def store() -> PageStore | None:
    return current_app.extensions.get(EXTENSION)


def uncacheable() -> None:
    """This answer is not to be kept (the view answered another address than the one asked)."""
    g.public_cache_skip = True


def _anonymous_reader() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and not session.get("_flashes")
    )


def cached(
    scopes: Callable[..., tuple[str, ...] | None], *, args: Mapping[str, str] | None = None
) -> Callable:
    """Serve the view's page to anonymous visitors from the store.

    ``scopes(**view_args)`` names the generations the page depends on (``None``: do not cache,
    e.g. an unknown démarche, which the view answers with 404); ``args`` are the query
    arguments the view reads, with their default: the others do not make another page.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**view_args: Any) -> Any:
            pages = store()
            if pages is None or not _anonymous_reader():
                return view(**view_args)
            names = scopes(**view_args)
            gens = pages.generations(names) if names is not None else None
            if gens is None:
                return view(**view_args)
            query = "&".join(
                f"{name}={request.args.get(name, default)[:20]}"
                for name, default in (args or {}).items()
            )
            key = f"page:{request.path}?{query}|{'.'.join(map(str, gens))}"
            token = generate_csrf()
            nonce = getattr(request, "csp_nonce", "")
            if (page := pages.get(key)) is not None:
                body, mimetype = page
                body = body.replace(CSRF_HOLE, token)
                if nonce:
                    body = body.replace(NONCE_HOLE, nonce)
                return Response(body, mimetype=mimetype)
            response = current_app.make_response(view(**view_args))
            if (
                response.status_code == 200
                and not response.direct_passthrough
                and not g.get("public_cache_skip")
                and not session.get("_flashes")
            ):
                body = response.get_data(as_text=True).replace(token, CSRF_HOLE)
                if nonce:
                    body = body.replace(nonce, NONCE_HOLE)
                pages.put(key, (body, response.mimetype))
            return response

        return wrapper

    return decorator


# -- what a transaction changed -----------------------------------------------------------


def _changed(obj: object, watched: tuple[str, ...] | None, session: Session) -> bool:
    if obj in session.new or obj in session.deleted:
        # A new account, department or participant shows nowhere until something of a
        # démarche names it (and that change counts).
        return type(obj) in PER_DEMARCHE or watched is None
    state = inspect(obj)
    names = watched or [a.key for a in state.mapper.column_attrs]
    return any(state.attrs[name].history.has_changes() for name in names)


def _slugs(obj: object, session: Session) -> set[str]:
    """The addresses of the démarche of ``obj`` (its former one too, if it changed)."""
    if isinstance(obj, Demarche):
        history = inspect(obj).attrs.slug.history
        return {s for s in (*history.deleted, obj.slug) if s}
    found = (
        session.get(Demarche, demarche_id) if (demarche_id := _demarche_of(obj, session)) else None
    )
    return {found.slug} if found is not None and found.slug else set()


def _demarche_of(obj: object, session: Session) -> int | None:
    if isinstance(obj, Registration):
        event = session.get(Event, obj.event_id) if obj.event_id else None
        return event.demarche_id if event else None
    if isinstance(obj, ItemDecision):
        item = session.get(Item, obj.item_id) if obj.item_id else None
        return item.demarche_id if item else None
    return getattr(obj, "demarche_id", None)


def _after_flush(session: Session, _context: Any) -> None:
    touched: set[str] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        cls = type(obj)
        if cls in PER_DEMARCHE and _changed(obj, PER_DEMARCHE[cls], session):
            slugs = _slugs(obj, session)
            touched.update({f"slug:{s}" for s in slugs} if slugs else {"shared"})
        elif cls in SHARED and _changed(obj, SHARED[cls], session):
            touched.add("shared")
    if touched:
        after_commit_each(session, BUMP, touched)


def _statement(state: ORMExecuteState) -> Any:
    """A statement that writes many rows at once: whose démarches is not known, so all."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in TABLES:
        return None
    result = state.invoke_statement()
    if state.is_insert or getattr(result, "rowcount", 1) != 0:
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters]
        ids = {row.get("demarche_id") for row in rows if isinstance(row, dict)}
        if ids and None not in ids:
            slugs = state.session.scalars(select(Demarche.slug).where(Demarche.id.in_(ids)))
            touched = [f"slug:{s}" for s in slugs]
        else:
            touched = ["shared"]
        after_commit_each(state.session, BUMP, touched)
    return result


def _bump(scopes: list[str]) -> None:
    """After the commit that changed them (``backoffice.after_commit`` runs it here, in the
    process that committed): the pages of ``scopes`` and those listing every démarche."""
    if (pages := store()) is not None:
        pages.bump(sorted({*scopes, "any"}))


def demarche_scopes(slug: str, **_: object) -> tuple[str, ...]:
    """A démarche's pages (``/demarches/<slug>…``): its own generation and the shared one."""
    return (f"slug:{slug}", "shared")


def init_app(app: Flask) -> None:
    seconds = int(app.config["PUBLIC_CACHE_SECONDS"])
    found = backend(app.config["PUBLIC_CACHE_URL"], seconds)
    if found is not None:
        app.extensions[EXTENSION] = PageStore(found, seconds)
    handle_here(BUMP, _bump)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _statement)
