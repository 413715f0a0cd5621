"""What the mission does with a built version: read it, write the introduction and a summary
per item, rename or merge themes, validate it, publish it (the one published before is then
replaced; every version is kept). The back office's sheet and the API call the same functions;
validating or publishing again what already is changes nothing (a request repeated)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import audit, charter
from ..access import parse_id
from ..contributions import to_text
from ..errors import Conflict, InvalidFields, NotFound, PermissionDenied
from ..i18n import N_, Msg
from ..models import Demarche, Synthesis, SynthesisStatus, User
from .requests import request_documents

EDITABLE = (SynthesisStatus.DRAFT, SynthesisStatus.VALIDATED)
MAX_TEXT = 50_000
MAX_LABEL = 200


def latest(session: Session, d: Demarche, *, published: bool = False) -> Synthesis | None:
    """The newest version (the published one when ``published``)."""
    query = select(Synthesis).where(Synthesis.demarche_id == d.id)
    if published:
        query = query.where(Synthesis.status == SynthesisStatus.PUBLISHED)
    return session.scalar(query.order_by(Synthesis.version.desc()).limit(1))


def being_edited(session: Session, d: Demarche) -> Synthesis | None:
    """The newest version the mission works on and has not published: it changed its text,
    names or themes (``edited_at``) or validated it. A build nobody touched is not one."""
    return session.scalar(
        select(Synthesis)
        .where(
            Synthesis.demarche_id == d.id,
            Synthesis.status.in_(EDITABLE),
            Synthesis.edited_at.is_not(None) | Synthesis.validated_at.is_not(None),
        )
        .order_by(Synthesis.version.desc())
        .limit(1)
    )


def version_that_matters(session: Session, d: Demarche) -> Synthesis | None:
    """The version to open when none is asked for: the published one; else the draft the
    mission is editing (``being_edited``); else, when nobody has touched any, the newest
    build. So a build that arrives on its own after the mission's work (a redelivered task,
    the sweep) never hides what was published or what is being written."""
    return latest(session, d, published=True) or being_edited(session, d) or latest(session, d)


def get_version(session: Session, d: Demarche, version: object) -> Synthesis:
    number = parse_id(version)
    found = (
        session.scalar(
            select(Synthesis).where(Synthesis.demarche_id == d.id, Synthesis.version == number)
        )
        if number
        else None
    )
    if found is None:
        raise NotFound(N_("no version %(version)s of this synthesis", version=version))
    return found


def _mission(actor: User) -> None:
    if not actor.is_mission:
        raise PermissionDenied(N_("the synthesis is the mission's to write and publish"))


def _editable(synthesis: Synthesis) -> None:
    if synthesis.status not in EDITABLE:
        raise Conflict(
            N_("a published version no longer changes: build a new version to change it")
        )


def check_editable(actor: User, synthesis: Synthesis) -> None:
    """Refuse as ``edit`` would, changing nothing: not the mission (403), a version that was
    published (409)."""
    _mission(actor)
    _editable(synthesis)


def _text(value: object, field: str) -> str:
    text = to_text(value if isinstance(value, str) else "")
    if len(text) > MAX_TEXT:
        raise InvalidFields({field: N_("at most %(max)s characters", max=MAX_TEXT)})
    return text


def edit(
    session: Session,
    actor: User,
    synthesis: Synthesis,
    *,
    introduction: object = None,
    summaries: Mapping[str, object] | None = None,
    labels: Mapping[str, object] | None = None,
    as_of: datetime,
) -> Synthesis:
    """Write the introduction, summaries (item id → text) and theme labels (theme id →
    label). A validated version goes back to draft."""
    _mission(actor)
    _editable(synthesis)
    if introduction is not None:
        synthesis.introduction = _text(introduction, "introduction")
    if summaries:
        items = {str(item.id) for item in synthesis.demarche.items}
        merged = dict(synthesis.summaries or {})
        for item_id, text in summaries.items():
            if str(item_id) not in items:
                raise InvalidFields({"summaries": N_("no item %(id)s", id=item_id)})
            merged[str(item_id)] = _text(text, "summaries")
        synthesis.summaries = merged
    if labels:
        themes = [dict(t) for t in synthesis.themes]
        by_id = {t["id"]: t for t in themes}
        for theme_id, label in labels.items():
            if theme_id not in by_id:
                raise InvalidFields({"labels": N_("no theme %(id)s", id=theme_id)})
            clean = to_text(label if isinstance(label, str) else "", single_line=True)
            if not clean or len(clean) > MAX_LABEL:
                raise InvalidFields(
                    {"labels": N_("a name of at most %(max)s characters", max=MAX_LABEL)}
                )
            by_id[theme_id]["label"] = clean
        synthesis.themes = themes
    synthesis.status = SynthesisStatus.DRAFT
    synthesis.edited_at, synthesis.validated_at = as_of, None
    audit.record(
        session,
        "synthesis.edit",
        actor=actor,
        as_of=as_of,
        demarche=synthesis.demarche,
        target=f"synthesis:{synthesis.id}",
    )
    session.flush()
    return synthesis


def merge_themes(
    session: Session, actor: User, synthesis: Synthesis, keep: str, into_it: str, *, as_of
) -> Synthesis:
    """Theme ``into_it`` joins theme ``keep`` (same scope): sizes add up, quotes and terms
    are kept in order, without repeats."""
    _mission(actor)
    _editable(synthesis)
    themes = [dict(t) for t in synthesis.themes]
    by_id = {t["id"]: t for t in themes}
    if keep not in by_id or into_it not in by_id or keep == into_it:
        raise InvalidFields({"themes": N_("two different themes of this version")})
    a, b = by_id[keep], by_id[into_it]
    if a["item_id"] != b["item_id"]:
        raise InvalidFields({"themes": N_("themes of the same item (or both overall)")})
    a["size"] += b["size"]
    a["terms"] = list(dict.fromkeys(a["terms"] + b["terms"]))[:12]
    seen = {q["contribution_id"] for q in a["quotes"]}
    a["quotes"] = a["quotes"] + [q for q in b["quotes"] if q["contribution_id"] not in seen]
    a.setdefault("merged", []).append(into_it)
    synthesis.themes = [t for t in themes if t["id"] != into_it]
    synthesis.status = SynthesisStatus.DRAFT
    synthesis.edited_at, synthesis.validated_at = as_of, None
    audit.record(
        session,
        "synthesis.merge_themes",
        actor=actor,
        as_of=as_of,
        demarche=synthesis.demarche,
        target=f"synthesis:{synthesis.id}",
        themes=f"{keep}+{into_it}",
    )
    session.flush()
    return synthesis


def validate(session: Session, actor: User, synthesis: Synthesis, *, as_of: datetime) -> None:
    """A draft with its introduction becomes validated (a validated one stays as it is)."""
    _mission(actor)
    if synthesis.status == SynthesisStatus.VALIDATED:
        return
    if synthesis.status != SynthesisStatus.DRAFT:
        raise Conflict(N_("only a draft is validated"))
    if not synthesis.introduction.strip():
        raise Conflict(N_("write the introduction before validating"))
    synthesis.status, synthesis.validated_at = SynthesisStatus.VALIDATED, as_of
    audit.record(
        session,
        "synthesis.validate",
        actor=actor,
        as_of=as_of,
        demarche=synthesis.demarche,
        target=f"synthesis:{synthesis.id}",
    )
    session.flush()


def publish_refusal(session: Session, synthesis: Synthesis) -> Msg | None:
    """Why ``synthesis`` cannot be published now (None: it can, or it is already)."""
    if synthesis.status == SynthesisStatus.PUBLISHED:
        return None
    if synthesis.status == SynthesisStatus.SUPERSEDED:
        return N_(
            "version %(version)s was published, then replaced: build a new version to "
            "publish again",
            version=synthesis.version,
        )
    if synthesis.status != SynthesisStatus.VALIDATED:
        return N_("validate this version before publishing it")
    published = latest(session, synthesis.demarche, published=True)
    if published is not None and published.version > synthesis.version:
        return N_(
            "version %(published)s, a later one, is published: an older version does not "
            "replace it",
            published=published.version,
        )
    return None


def publish(session: Session, actor: User, synthesis: Synthesis, *, as_of: datetime) -> None:
    """Make a validated version public; the one published before (an older one) is replaced.
    Publishing meets the charter's deadline of the synthesis. Publishing the published
    version again changes nothing: no second document, deadline event or audit entry."""
    _mission(actor)
    if synthesis.status == SynthesisStatus.PUBLISHED:
        return
    refusal = publish_refusal(session, synthesis)
    if refusal is not None:
        raise Conflict(refusal)
    session.execute(
        update(Synthesis)
        .where(
            Synthesis.demarche_id == synthesis.demarche_id,
            Synthesis.status == SynthesisStatus.PUBLISHED,
        )
        .values(status=SynthesisStatus.SUPERSEDED)
        .execution_options(synchronize_session="fetch")
    )
    synthesis.status = SynthesisStatus.PUBLISHED
    synthesis.published_at, synthesis.published_by_id = as_of, actor.id
    charter.event(session, synthesis.demarche, "synthesis_published", at=as_of, round_=1)
    request_documents(session, synthesis.id)  # a worker makes its PDF and spreadsheet
    audit.record(
        session,
        "synthesis.publish",
        actor=actor,
        as_of=as_of,
        demarche=synthesis.demarche,
        target=f"synthesis:{synthesis.id}",
        version=synthesis.version,
    )
    session.flush()


def public_view(synthesis: Synthesis) -> dict[str, Any]:
    """What the API and the pages show: no contribution or author identity in the quotes."""
    return {
        "version": synthesis.version,
        "status": synthesis.status.value,
        "built_at": synthesis.built_at,
        "published_at": synthesis.published_at,
        "introduction": synthesis.introduction,
        "summaries": synthesis.summaries,
        "figures": synthesis.figures,
        "themes": [
            {
                "id": t["id"],
                "item_id": t["item_id"],
                "label": t["label"],
                "size": t["size"],
                "terms": t["terms"],
                "quotes": [q["text"] for q in t["quotes"]],
            }
            for t in synthesis.themes
        ],
        "duplicates": [
            {"size": g["size"], "item_ids": g["item_ids"], "text": g["text"]}
            for g in synthesis.duplicates
        ],
        "inputs": synthesis.inputs,
    }
