"""What a mailing's writer inserts without template syntax: placeholders in plain French.

A placeholder is written between square brackets — ``[Titre de la démarche]`` — and stands
for a piece of the Jinja the sandbox renders (``{{ demarche.title }}``). The mailing keeps the
text as written; :func:`expand` turns it into the template when it is compiled, so the same
sandbox, with the same budget, renders both what a writer typed and the templates written
before placeholders existed (square brackets that name no placeholder stay as they are).
Capitals, accents, apostrophes and spaces are forgiven: ``[titre de la demarche]`` works too.

This list is the one source: the back office's editor, the API's description and the check at
writing all read it, and it names which kinds of mailing (and which mailings: those to one
event's registrants) each placeholder is for — what the engine fills for them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from itertools import islice

from ..i18n import N_, Msg
from ..models import MailingKind
from .policy import SCOPES

#: What a placeholder needs to have a value: ``citizens`` a mailing to citizens (a kind with
#: an unsubscription scope: their contributions, their unsubscription link), ``event`` a
#: mailing to one event's registrants, ``survey`` the participants' survey (each
#: recipient's own link to the questionnaire).
CITIZENS, EVENT, SURVEY = "citizens", "event", "survey"
#: A text written before a block placeholder's expansion and after it: it keeps Jinja's
#: ``trim_blocks`` and ``lstrip_blocks`` from eating the writer's line breaks and indents.
_KEEP = '{{ "" }}'


@dataclass(frozen=True)
class Placeholder:
    """``token``: what the writer types (French: it is part of the mailing's text, like the
    rest of it); ``help``: what it becomes, for the writer; ``source``: the Jinja it stands
    for; ``needs``: None, CITIZENS or EVENT; ``block``: several lines (the text, not the
    subject)."""

    key: str
    token: str
    help: Msg
    source: str
    needs: str | None = None
    block: bool = False


def _block(source: str) -> str:
    return _KEEP + source + _KEEP


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder(
        "greeting",
        "[Bonjour et nom du destinataire]",
        N_("« Bonjour » and the recipient's name, then a comma; « Bonjour, » without a name"),
        "Bonjour{% if name %} {{ name }}{% endif %},",
    ),
    Placeholder(
        "name",
        "[Prénom et nom du destinataire]",
        N_("the recipient's name as they gave it (empty when they gave none)"),
        "{{ name }}",
    ),
    Placeholder(
        "demarche_title",
        "[Titre de la démarche]",
        N_("the title of the démarche"),
        "{{ demarche.title }}",
    ),
    Placeholder(
        "demarche_url",
        "[Lien vers la page de la démarche]",
        N_("the address of the démarche's public page"),
        "{{ demarche.url }}",
    ),
    Placeholder(
        "territory",
        "[Territoire de la démarche]",
        N_("the canton of the démarche, or « Haute-Garonne »"),
        "{{ demarche.territory }}",
    ),
    Placeholder(
        "synthesis_url",
        "[Lien vers la synthèse]",
        N_("the address of the synthesis, on the démarche's public page"),
        "{{ synthesis_url }}",
    ),
    Placeholder(
        "decisions",
        "[Décisions du Département]",
        N_(
            "each item of the démarche with the department's decision and its justification, "
            "one paragraph each"
        ),
        _block(
            "{% for d in decisions %}"
            '{% if not loop.first %}{{ "\\n\\n" }}{% endif %}'
            '{{ d.item }} : {{ d.outcome or "décision à venir" }}.'
            '{% if d.justification %}{{ "\\n" }}{{ d.justification }}{% endif %}'
            "{% endfor %}"
        ),
        block=True,
    ),
    Placeholder(
        "contributions",
        "[Contributions du destinataire et décisions]",
        N_(
            "under the heading « Vos contributions, et ce qui a été décidé à leur sujet », "
            "each contribution of the recipient with its date, its item and the decision "
            "about it; nothing for someone who did not contribute"
        ),
        _block(
            "{% if contributions %}Vos contributions, et ce qui a été décidé à leur sujet :"
            "{% for c in contributions %}"
            '{{ "\\n\\n" }}Le {{ c.date }}, sur « {{ c.item }} » :{{ "\\n" }}« {{ c.text }} »'
            '{% if c.outcome %}{{ "\\n" }}Décision : {{ c.outcome }}. {{ c.justification }}'
            "{% endif %}{% endfor %}{% endif %}"
        ),
        needs=CITIZENS,
        block=True,
    ),
    Placeholder(
        "event_title",
        "[Titre de l’événement]",
        N_("the title of the event"),
        "{{ event.title }}",
        needs=EVENT,
    ),
    Placeholder(
        "event_when",
        "[Date et heure de l’événement]",
        N_("its date and time, e.g. « 01/02/2026 à 18:00 » (Paris time)"),
        "{{ event.when }}",
        needs=EVENT,
    ),
    Placeholder(
        "event_place",
        "[Lieu de l’événement]",
        N_("where it takes place"),
        "{{ event.place }}",
        needs=EVENT,
    ),
    Placeholder(
        "survey_url",
        "[Lien vers le questionnaire]",
        N_(
            "the recipient's own link to the participants' questionnaire (answerable once, "
            "no account needed)"
        ),
        "{{ survey_url }}",
        needs=SURVEY,
    ),
    Placeholder(
        "unsubscribe_url",
        "[Lien de désabonnement]",
        N_(
            "the recipient's own link to stop receiving this kind of mailing (every message "
            "to citizens already ends with it)"
        ),
        "{{ unsubscribe_url }}",
        needs=CITIZENS,
    ),
)


def _folded(text: str) -> str:
    """How tokens are compared: no case, accents, typographic apostrophes or extra spaces."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


#: How many bracketed words :func:`near_misses` compares with the placeholders, at most.
NEAR_MISSES_LOOKED_AT = 50
_BY_NAME = {_folded(p.token[1:-1]): p for p in PLACEHOLDERS}
_BRACKETS = re.compile(r"\[([^\[\]\n]{1,80})\]")


def available(kind: MailingKind | None, *, with_event: bool) -> list[Placeholder]:
    """The placeholders the engine fills for a mailing of ``kind`` (None: not chosen yet —
    those of every kind), to one event's registrants or not."""

    def fits(p: Placeholder) -> bool:
        if p.needs == EVENT:
            return with_event
        if p.needs == CITIZENS:
            return kind is None or SCOPES[kind] is not None
        if p.needs == SURVEY:
            return kind is None or kind == MailingKind.SURVEY
        return True

    return [p for p in PLACEHOLDERS if fits(p)]


def used(source: str) -> list[Placeholder]:
    """The placeholders a text names, each once, in the order of the text."""
    found: dict[str, Placeholder] = {}
    for match in _BRACKETS.finditer(source):
        placeholder = _BY_NAME.get(_folded(match.group(1)))
        if placeholder is not None:
            found.setdefault(placeholder.key, placeholder)
    return list(found.values())


def expand(source: str) -> str:
    """The Jinja template of a text: each placeholder replaced by what it stands for."""
    if "[" not in source:
        return source

    def replace(match: re.Match[str]) -> str:
        placeholder = _BY_NAME.get(_folded(match.group(1)))
        return placeholder.source if placeholder is not None else match.group(0)

    return _BRACKETS.sub(replace, source)


def misuse(source: str, field_name: str, kind: MailingKind, *, with_event: bool) -> Msg | None:
    """Why a text may not use one of its placeholders (the first found), or None."""
    allowed = {p.key for p in available(kind, with_event=with_event)}
    for placeholder in used(source):
        if placeholder.key not in allowed and placeholder.needs == EVENT:
            return N_(
                "%(token)s needs an event: choose the event whose registrants receive the mailing",
                token=placeholder.token,
            )
        if placeholder.key not in allowed and placeholder.needs == SURVEY:
            return N_("%(token)s is only for the participants' survey", token=placeholder.token)
        if placeholder.key not in allowed:
            return N_("%(token)s is only for mailings to citizens", token=placeholder.token)
        if placeholder.block and field_name == "subject":
            return N_(
                "%(token)s takes several lines: put it in the text, not in the subject",
                token=placeholder.token,
            )
    return None


def near_misses(source: str) -> list[tuple[str, str]]:
    """Bracketed words that look like a placeholder misspelt — (as written, the placeholder)
    — which will be sent as they are (each once, among the first ``NEAR_MISSES_LOOKED_AT``
    different ones: a preview runs at every pause in the writing)."""
    names = list(_BY_NAME)
    found = []
    written = dict.fromkeys(match.group(0) for match in _BRACKETS.finditer(source))
    for bracketed in islice(written, NEAR_MISSES_LOOKED_AT):
        name = _folded(bracketed[1:-1])
        if name in _BY_NAME:
            continue
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        if close:
            found.append((bracketed, _BY_NAME[close[0]].token))
    return found
