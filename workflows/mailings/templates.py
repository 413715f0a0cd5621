"""Templates of mailings: compiled in the sandbox, checked on samples."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes

from ..decisions import MAX_JUSTIFICATION
from ..errors import InvalidFields
from ..i18n import N_, Msg
from ..models import MailingKind
from ..sandbox import Budget, BudgetedEnvironment, OverBudget, render
from .placeholders import expand, misuse
from .policy import EXCERPT

# -- templates ------------------------------------------------------------------------------

env = BudgetedEnvironment(
    autoescape=False,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
#: What a template may raise while it renders (anything else — a worker's time limit — goes
#: through: it is not the template's fault).
TEMPLATE_ERRORS = (
    TemplateError,
    ArithmeticError,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    RuntimeError,
    MemoryError,
)
#: How many contributions and decisions the check gives one of its recipients.
MANY = 200
_SAMPLE = N_("for the sample recipient")
THIS = N_("for this recipient")


def _sample_context(with_event: bool) -> dict[str, Any]:
    """What a template may use, with a sample of each (checked at writing, not at sending)."""
    decision = {"item": "Engagement", "outcome": "Retenu", "justification": "Parce que."}
    return {
        "name": "Camille Martin",
        "demarche": {"title": "Démarche", "url": "https://example.org/d", "territory": "Muret"},
        "synthesis_url": "https://example.org/d#synthese",
        "decisions": [decision],
        "contributions": [{**decision, "text": "Mon avis.", "date": "01/02/2026"}],
        "unsubscribe_url": "https://example.org/u",
        "survey_url": "https://example.org/questionnaire/exemple",
        "event": {"title": "Atelier", "place": "Muret", "when": "01/02/2026 à 18:00"}
        if with_event
        else None,
    }


def _check_contexts(with_event: bool) -> list[tuple[Msg, dict[str, Any]]]:
    """The recipients a template is tried for when written: the sample one, one without a
    name nor contributions nor decisions, one with many of each, and one whose names and texts
    are as long as they can be — so that what only real recipients trigger (a loop over their
    contributions, a branch for a missing name) is found before the sending."""
    sample = _sample_context(with_event)
    decisions = [
        {"item": f"Engagement {n}", "outcome": "Retenu", "justification": "Parce que."}
        for n in range(1, MANY + 1)
    ]
    longest = {
        "item": "É" * 300,
        "outcome": "Partiellement retenu",
        "justification": "j" * MAX_JUSTIFICATION,
    }
    return [
        (_SAMPLE, sample),
        (
            N_("for a recipient without a name, contributions or decisions"),
            {**sample, "name": "", "contributions": [], "decisions": []},
        ),
        (
            N_("for a recipient with %(count)s contributions", count=MANY),
            {
                **sample,
                "decisions": decisions,
                "contributions": [
                    {**d, "text": f"Mon avis n°{n}.", "date": "01/02/2026"}
                    for n, d in enumerate(decisions, 1)
                ],
            },
        ),
        (
            N_("with the longest names and texts"),
            {
                **sample,
                "name": "N" * 160,
                "demarche": {**sample["demarche"], "title": "T" * 200},
                "decisions": [longest],
                "contributions": [{**longest, "text": "t" * EXCERPT, "date": "01/02/2026"}],
                "event": {"title": "E" * 200, "place": "P" * 300, "when": "01/02/2026 à 18:00"}
                if with_event
                else None,
            },
        ),
    ]


def template_error(exc: BaseException, case: Msg) -> Msg:
    """What a failed render says, in the back office and the API (and a refused delivery)."""
    if isinstance(exc, OverBudget) and exc.kind == "time":
        return N_(
            "the template takes more than %(ms)s ms to write %(case)s",
            ms=round(exc.budget.seconds * 1000),
            case=case,
        )
    if isinstance(exc, OverBudget):
        return N_(
            "the template writes or builds a text of more than %(chars)s characters %(case)s",
            chars=exc.budget.chars,
            case=case,
        )
    if case in (_SAMPLE, THIS):
        return N_("the template does not read: %(error)s", error=str(exc))
    return N_("the template does not read %(case)s: %(error)s", case=case, error=str(exc))


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    """A template compiled once per process (a mailing's chunks all render the same)."""
    return env.from_string(expand(source))


#: What differs from one recipient to the next in the context of a mailing's templates.
PERSONAL = frozenset({"name", "contributions", "unsubscribe_url", "survey_url"})


@functools.lru_cache(maxsize=64)
def reads_the_same_for_all(source: str) -> bool:
    """Whether a template writes the same text for every recipient of a mailing: it reads
    nothing of the recipient's (``PERSONAL``) and draws nothing at random."""
    try:
        tree = env.parse(expand(source))
    except Exception:  # noqa: BLE001 - compile_template says what is wrong
        return False
    if any(f.name == "random" for f in tree.find_all(nodes.Filter)):
        return False
    return not meta.find_undeclared_variables(tree) & PERSONAL


def compile_template(source: str, field_name: str) -> Template:
    """The template of a subject or a text, its placeholders expanded (:mod:`.placeholders`)."""
    try:
        return _compiled(source)
    except Exception as exc:  # noqa: BLE001 - a syntax error, a template nested too deeply
        raise InvalidFields(
            {field_name: N_("the template does not read: %(error)s", error=str(exc))}
        ) from None


def check_template(
    source: str,
    field_name: str,
    *,
    with_event: bool = False,
    budget: Budget | None = None,
    kind: MailingKind | None = None,
) -> None:
    """Refuse a template that uses a placeholder its mailing (of ``kind``) has no value for,
    does not parse, uses a variable that does not exist, fails or goes past its budget
    (``budget``; a subject gets a subject's) for any of the recipients of
    :func:`_check_contexts`."""
    if kind is not None:
        wrong = misuse(source, field_name, kind, with_event=with_event)
        if wrong is not None:
            raise InvalidFields({field_name: wrong})
    budget = budget or Budget()
    if field_name == "subject":
        budget = budget.for_subject()
    template = compile_template(source, field_name)
    for case, context in _check_contexts(with_event):
        try:
            render(template, context, budget)
        except Exception as exc:  # noqa: BLE001 - a sandbox refusal, a type error, a budget
            raise InvalidFields({field_name: template_error(exc, case)}) from None


def default_text(kind: MailingKind) -> tuple[str, str]:
    """The subject and the text a mailing of ``kind`` starts from (the mission's to change;
    the feedback and the reminders go out with theirs when nobody wrote one), in plain French
    with placeholders: ``workflows/data/mailings/<kind>.txt``, its first line the subject."""
    path = f"data/mailings/{kind.value}.txt"
    text = resources.files("workflows").joinpath(path).read_text("utf-8")
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def default_feedback() -> tuple[str, str]:
    """The feedback's subject and text, the mission's to change."""
    return default_text(MailingKind.FEEDBACK)
