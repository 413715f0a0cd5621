"""The methodological guide is generated from what the project knows: every stage has its
roles and its checklist, every guard its sentence, the charter's rules come from the version
in force at ``as_of`` (a published change shows, an earlier ``as_of`` does not), the ladder
lists the catalogue's methods, the templates are the files the project sends, and the
changes that alter the guide ask the workers for a new edition of its PDF."""

from __future__ import annotations

from datetime import datetime, timedelta

from backoffice.extensions import db
from backoffice.i18n import tr
from workflows import after_commit, charter, guards, methods
from workflows import guide as domain
from workflows.charter import EVENTS
from workflows.clock import utcnow
from workflows.guide import checklists, documents
from workflows.mailings.templates import default_text
from workflows.models import GuideDocument, MailingKind
from workflows.stages import MOVES, ParticipationLevel, Stage
from workflows.syntheses import introduction


def guide(as_of: datetime | None = None) -> domain.Guide:
    return domain.build_guide(db.session, as_of=as_of or utcnow())


def render(messages) -> list[str]:
    return [tr(m) for m in messages]


def test_every_stage_has_its_summary_and_what_each_of_the_three_does():
    roles = domain.stage_roles()
    assert set(roles) == set(Stage)
    for stage, texts in roles.items():
        for who in ("summary", "department", "mission", "elected"):
            assert len(getattr(texts, who).strip()) > 20, (stage, who)


def test_every_rung_of_the_ladder_is_explained():
    texts = domain.ladder_texts()
    assert list(texts) == list(ParticipationLevel)
    assert all(len(t) > 40 for t in texts.values())


def test_every_guard_of_the_stage_machine_has_its_checklist_sentence():
    assert domain.unexplained_guards() == []
    assert set(checklists.SAISINE_FIELDS) == set(guards.SAISINE_REQUIRED_FIELDS)
    # Every event of the charter belongs to a stage, so a deadline shows where it starts.
    assert set(domain.EVENT_STAGES) == set(EVENTS)


def test_a_guard_without_a_sentence_is_found(monkeypatch):
    """The check above would pass on nothing: a guard added to the machine is caught."""

    def new_guard(d, ctx):
        yield from ()

    monkeypatch.setitem(guards.GUARDS, Stage.CLOSED, (*guards.GUARDS[Stage.CLOSED], new_guard))
    assert domain.unexplained_guards() == ["new_guard"]


def test_every_stage_has_a_checklist_or_is_final(ctx):
    made = guide()
    assert [s.stage for s in made.stages] == list(Stage)
    movable = {m.source for m in MOVES}
    for s in made.stages:
        assert s.final == (s.stage not in movable), s.stage
        for exit in s.exits:
            assert exit.checklist and exit.by, (s.stage, exit.target)
    assert {s.stage for s in made.stages if s.final} == {Stage.REJECTED, Stage.CLOSED}
    # Derived from the guards: the saisine's required fields, the reason of a refusal.
    draft = render(made.stage(Stage.DRAFT).exits[0].checklist)
    assert "La saisine indique le service qui la porte" in draft
    assert len(draft) == len(guards.SAISINE_REQUIRED)
    returned = next(e for e in made.stage(Stage.SUBMITTED).exits if e.target == Stage.RETURNED)
    assert render(returned.checklist) == ["La mission motive sa décision, que le service lit"]
    assert render(returned.by) == ["Mission démocratie participative"]


def test_the_checklists_and_the_charter_come_from_the_version_in_force(ctx, people):
    before = guide()
    launch = render(before.stage(Stage.LAUNCH).exits[0].checklist)
    assert (
        "La consultation dure au moins 21 jours et au plus 3 mois "
        "(règle de la charte « Durée de la consultation »)"
    ) in launch
    assert any("au moins 15 jours avant" in line for line in launch)
    answer = before.charter.rule("answer_question")
    assert tr(answer.within) == "30 jours"
    assert answer in before.stage(Stage.CONSULTATION).deadlines
    assert before.charter.number == 1

    published_at = utcnow() + timedelta(days=1)
    draft = charter.new_draft(db.session, people.mission, as_of=published_at)
    for code, changes in (
        ("answer_question", {"duration": 25}),
        ("consultation_length", {"duration": 4, "unit": "months", "maximum": 6}),
    ):
        rule = draft.rule(code)
        values = {name: getattr(rule, name) for name in charter.RULE_COLUMNS[1:]}
        charter.update_rule(
            db.session, people.mission, rule, {**values, **changes}, as_of=published_at
        )
    charter.publish(db.session, people.mission, draft, as_of=published_at)
    db.session.commit()

    after = guide(published_at + timedelta(minutes=1))
    assert after.charter.number == 2
    assert tr(after.charter.rule("answer_question").within) == "25 jours"
    assert "Délai" in render(n for n, _ in after.charter.rule("answer_question").facts)
    assert any(
        "au moins 4 mois et au plus 6 mois" in line
        for line in render(after.stage(Stage.LAUNCH).exits[0].checklist)
    )
    assert after.digest != before.digest
    # ``as_of`` is explicit: before the publication, the guide tells version 1.
    earlier = guide(published_at - timedelta(minutes=1))
    assert earlier.charter.number == 1
    assert tr(earlier.charter.rule("answer_question").within) == "30 jours"
    assert earlier.digest == before.digest


def test_the_ladder_lists_the_methods_of_each_rung_and_forgets_a_retired_one(ctx, people):
    now = utcnow()
    methods.load_catalogue(db.session, as_of=now)
    db.session.commit()
    made = guide()
    rungs = {r.level: dict(r.methods) for r in made.ladder}
    assert [r.level for r in made.ladder] == list(ParticipationLevel)
    assert "atelier-citoyen" in rungs[ParticipationLevel.CO_CONSTRUCTION]
    assert "budget-participatif" in rungs[ParticipationLevel.CODECISION]
    assert len(made.methods) == len(methods.shipped_methods())
    licensed = [m for m in made.methods if "MIT License" in m["licence"]]
    assert len(licensed) == 7

    cafe = methods.get_method(db.session, "world-cafe")
    methods.set_retired(db.session, people.mission, cafe, True, as_of=now)
    db.session.commit()
    after = guide()
    assert "world-cafe" not in {m.slug for m in after.methods}
    assert all("world-cafe" not in dict(r.methods) for r in after.ladder)
    assert after.digest != made.digest


def test_the_templates_are_the_texts_the_project_sends(ctx):
    texts = {t.key: t for t in domain.content.template_texts()}
    subject, body = default_text(MailingKind.INVITATION)
    assert (texts["invitation"].subject, texts["invitation"].text) == (subject, body.strip())
    feedback = texts["feedback"]
    assert "[Décisions du Département]" in feedback.text
    tokens = [token for token, _ in feedback.fields]
    assert "[Titre de la démarche]" in tokens and "[Lien vers la synthèse]" in tokens
    assert "[Lien de désabonnement]" not in tokens  # only the fields the text uses
    decisions = tr(dict(feedback.fields)["[Décisions du Département]"])
    assert decisions.startswith("chaque engagement de la démarche")
    intro = texts["synthesis_introduction"]
    assert intro.text == introduction.model()
    assert [token for token, _ in intro.fields] == [t for t, _ in introduction.FIELDS]
    assert all(token in intro.text for token, _ in intro.fields)


def test_the_synthesis_introduction_model_is_filled_from_the_version(ctx, make_demarche, people):
    from tests.support import publish_synthesis

    d = make_demarche("synthesis")
    synthesis = publish_synthesis(d, people.mission)
    text = introduction.drafted(synthesis)
    assert "[" not in text and f"« {d.title} »" in text
    assert text.startswith("Du ") and str(d.consultation_opens.year) in text


def test_the_digest_tells_what_the_guide_says_not_when(ctx):
    now = utcnow()
    assert guide(now).digest == guide(now + timedelta(hours=3)).digest
    data = guide().as_data()
    assert data["stages"][0]["stage"] == "draft"
    assert data["charter"]["rules"][0]["code"] == "acknowledge_saisine"


def jobs() -> list[str]:
    return [job.task for job in after_commit.pending(db.session)]


def test_what_changes_the_guide_asks_the_workers_for_an_edition(ctx, people):
    now = utcnow()
    methods.load_catalogue(db.session, as_of=now)
    assert after_commit.RENDER_GUIDE in jobs()
    db.session.commit()
    methods.load_catalogue(db.session, as_of=now)  # nothing changed: nothing asked
    assert after_commit.RENDER_GUIDE not in jobs()
    cafe = methods.get_method(db.session, "world-cafe")
    methods.update_method(db.session, people.mission, cafe, {}, as_of=now)  # no change
    assert after_commit.RENDER_GUIDE not in jobs()
    methods.update_method(db.session, people.mission, cafe, {"name": "World Café"}, as_of=now)
    assert after_commit.RENDER_GUIDE in jobs()
    db.session.commit()

    draft = charter.new_draft(db.session, people.mission, as_of=now)
    assert after_commit.RENDER_GUIDE not in jobs()  # a draft is not in force
    db.session.commit()
    charter.publish(db.session, people.mission, draft, as_of=now)
    assert after_commit.RENDER_GUIDE in jobs()
    db.session.rollback()
    assert after_commit.RENDER_GUIDE not in jobs()


def test_an_edition_is_claimed_once_and_a_dead_workers_claim_is_taken_over(ctx):
    now = utcnow()
    first = documents.claim(db.session, "a" * 64, as_of=now, charter_number=1, methods=22)
    assert first is not None
    db.session.commit()
    # Another worker, meanwhile: the same edition is not made twice.
    assert documents.claim(db.session, "a" * 64, as_of=now, charter_number=1, methods=22) is None
    # Its worker died: a quarter of an hour later, the edition is taken over.
    later = now + documents.STALE + timedelta(seconds=1)
    again = documents.claim(db.session, "a" * 64, as_of=later, charter_number=1, methods=22)
    assert again is not None and again.id == first.id
    assert documents.latest(db.session) is None  # claimed is not made
    documents.keep(db.session, again, b"%PDF-1.7", pages=1, as_of=later)
    db.session.commit()
    assert documents.latest(db.session).id == first.id
    assert documents.claim(db.session, "a" * 64, as_of=later, charter_number=1, methods=22) is None


def test_only_the_last_editions_are_kept(ctx):
    now = utcnow()
    for n in range(documents.KEEP + 2):
        when = now + timedelta(hours=n)
        made = documents.claim(db.session, f"{n:064d}", as_of=when, charter_number=1, methods=1)
        documents.keep(db.session, made, b"%PDF", pages=1, as_of=when)
    db.session.commit()
    kept = db.session.query(GuideDocument).order_by(GuideDocument.made_at).all()
    assert len(kept) == documents.KEEP
    assert kept[-1].digest == f"{documents.KEEP + 1:064d}"
    assert documents.latest(db.session).digest == kept[-1].digest
