"""The charter's label: the rules as checked data, the proposal with each criterion met, not
met or not computed, the gates (the survey not sent: no level), the mission's award — a level
other than the proposal needs a public reason —, audited, and the rules version a démarche
was judged by kept when the mission edits the rules."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from workflows import label
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidFields, PermissionDenied
from workflows.evaluation import Dimension, Evaluation, Indicator
from workflows.label.rules import default_data
from workflows.models import AuditEntry, Demarche, LabelAward, LabelRules

AS_OF = datetime(2027, 6, 1, 10, tzinfo=UTC)

#: An exemplary démarche's values: every criterion of the shipped rules holds.
EXEMPLARY = {
    "framing_public_before_opening": 1.0,
    "deadlines_met_on_time": 1.0,
    "feedback_contributors_told": 0.97,
    "feedback_days_after_closing": 40.0,
    "feedback_decisions_justified": 1.0,
    "influence_contributions_retained": 0.4,
    "mobilisation_cantons_reached": 0.8,
    "mobilisation_per_1000": 3.0,
    "mobilisation_newcomers": 0.5,
    "survey_sent": 1.0,
}
PUBLISHED = {"synthesis_published": 1.0}


def made(values: dict[str, float | None]) -> Evaluation:
    """An evaluation holding ``values`` (None: not computed), in one dimension."""
    indicators = tuple(
        Indicator(code, value, None if value is None else 3) for code, value in values.items()
    )
    return Evaluation(1, AS_OF, 1, (Dimension("framing", indicators),))


def test_the_shipped_rules_read_and_each_level_demands_what_the_one_below_does():
    rules = label.shipped()
    assert rules.version == 1
    assert [lv.code for lv in rules.levels] == list(label.LEVELS)
    assert [lv.label for lv in rules.levels] == [
        "★ Charte respectée",
        "★★ Démarche de qualité",
        "★★★ Démarche exemplaire",
    ]
    assert {g.indicator for g in rules.gates} == {
        "synthesis_published",
        "feedback_contributors_told",
        "survey_sent",
    }
    assert label.parse(rules.to_json(), version=1) == rules


def test_the_proposal_is_the_highest_level_whose_criteria_all_hold():
    rules = label.shipped()
    best = label.propose(made(EXEMPLARY), rules, PUBLISHED)
    assert best.gates_met and best.level == "gold"
    assert best.label == "★★★ Démarche exemplaire"
    assert best.rules_version == 1

    # Feedback after 75 days and a fifth of the contributions retained: silver, and gold's
    # criteria say which ones fail, with the value seen and the threshold.
    middling = label.propose(
        made(
            {
                **EXEMPLARY,
                "feedback_days_after_closing": 75.0,
                "influence_contributions_retained": 0.2,
            }
        ),
        rules,
        PUBLISHED,
    )
    assert middling.level == "silver"
    gold = middling.level_check("gold")
    assert gold is not None and not gold.met
    failed = {
        c.criterion.indicator: (c.value, c.criterion.threshold) for c in gold.checks if not c.met
    }
    assert failed == {
        "feedback_days_after_closing": (75.0, 60.0),
        "influence_contributions_retained": (0.2, 0.3),
    }
    assert {c.status for c in gold.checks} == {label.MET, label.NOT_MET}


def test_a_criterion_not_computed_is_not_met_and_says_so():
    values = {**EXEMPLARY, "mobilisation_newcomers": None}
    proposal = label.propose(made(values), label.shipped(), PUBLISHED)
    gold = proposal.level_check("gold")
    assert gold is not None
    newcomers = next(c for c in gold.checks if c.criterion.indicator == "mobilisation_newcomers")
    assert newcomers.status == label.NOT_COMPUTED and newcomers.value is None
    assert proposal.level == "silver"


@pytest.mark.parametrize(
    "change",
    [
        {"survey_sent": None},  # the survey's indicator not there yet: not computed
        {"feedback_contributors_told": 0.89},  # under 90 % told
    ],
)
def test_a_gate_not_met_leaves_no_level_whatever_the_criteria(change):
    values = {k: v for k, v in {**EXEMPLARY, **change}.items() if v is not None}
    proposal = label.propose(made(values), label.shipped(), PUBLISHED)
    assert not proposal.gates_met
    assert proposal.level is None and proposal.label is None
    gold = proposal.level_check("gold")
    assert gold is not None and gold.met  # the levels still say what holds


def test_without_the_record_s_facts_the_synthesis_gate_is_not_computed():
    proposal = label.propose(made(EXEMPLARY), label.shipped())
    gate = next(g for g in proposal.gates if g.criterion.indicator == "synthesis_published")
    assert gate.status == label.NOT_COMPUTED and proposal.level is None


def test_a_proposal_reads_back_from_its_json():
    proposal = label.propose(made(EXEMPLARY), label.shipped(), PUBLISHED)
    assert label.Proposal.from_json(proposal.to_json()) == proposal


# -- bad rules ----------------------------------------------------------------------------


def edited(change) -> dict:
    data = copy.deepcopy(default_data())
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            _set(("levels", 0, "criteria", 0, "indicator"), "happiness"),
            "bronze-0-indicator",
            "unknown indicator “happiness”",
        ),
        (
            _set(("gates", 1, "threshold"), 90),
            "gates-1-threshold",
            "a threshold between 0 and 1 for this indicator",
        ),
        (
            _set(("levels", 2, "criteria", 3, "threshold"), -5),
            "gold-3-threshold",
            "a threshold between 0 and 3650 for this indicator",
        ),
        (_set(("gates", 0, "threshold"), "beaucoup"), "gates-0-threshold", "a number expected"),
        (_set(("gates", 0, "comparison"), "about"), "gates-0-comparison", "at least or at most"),
        (_set(("levels", 1, "label"), "  "), "silver-label", "a label of at most 200 characters"),
        (
            # Gold asks less of the deadlines than silver does.
            _set(("levels", 2, "criteria", 0, "threshold"), 0.8),
            "gold-order",
            "“★★★ Démarche exemplaire” must demand at least what “★★ Démarche de qualité” "
            "demands: “Au moins 90 % des délais de la charte tenus à temps” is missing or less "
            "demanding",
        ),
        (
            lambda data: data["levels"].reverse(),
            "levels",
            "the levels bronze, silver, gold, in this order, lowest first",
        ),
        (_set(("levels", 0, "criteria"), []), "bronze", "a level needs at least one criterion"),
    ],
)
def test_bad_rules_are_refused_with_what_is_wrong(change, field, message):
    with pytest.raises(InvalidFields) as refused:
        label.parse(edited(change))
    assert str(refused.value.errors[field]) == message


# -- versions and awards, in the database -------------------------------------------------


def test_bad_rules_edits_save_nothing_and_others_may_not_edit(ctx, people):
    before = db.session.scalar(select(LabelRules.id).limit(1))
    with pytest.raises(InvalidFields):
        label.save(
            db.session,
            people.mission,
            edited(_set(("gates", 1, "threshold"), 2)),
            as_of=utcnow(),
        )
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        label.save(db.session, people.agent, default_data(), as_of=utcnow())
    db.session.rollback()
    assert db.session.scalar(select(LabelRules.id).limit(1)) == before is None


def test_awarding_needs_a_closed_demarche_and_the_mission(make_demarche, people):
    open_one = make_demarche("feedback")
    with pytest.raises(Conflict):
        label.award(db.session, open_one, "bronze", "Raison", people.mission, utcnow())
    closed = make_demarche("closed")
    for someone in (people.agent, people.elected):
        with pytest.raises(PermissionDenied):
            label.award(db.session, closed, "bronze", "Raison", someone, utcnow())


def test_a_level_above_the_proposal_needs_a_public_reason(make_demarche, people):
    d = make_demarche("closed")
    proposal = label.proposal_for(db.session, d, as_of=utcnow())
    assert proposal.level is None  # the survey was not sent: no level proposed
    with pytest.raises(InvalidFields) as refused:
        label.award(db.session, d, "silver", "  ", people.mission, utcnow())
    assert str(refused.value.errors["reason"]) == (
        "a level above the one the rules propose needs a public reason"
    )
    db.session.rollback()
    assert db.session.scalar(select(LabelAward.id).limit(1)) is None

    reason = "Le questionnaire a été remis en main propre à l’atelier de clôture."
    done = label.award(db.session, d, "silver", reason, people.mission, utcnow())
    db.session.commit()
    assert (done.level, done.reason, done.proposed_level) == ("silver", reason, None)
    assert done.rules_version == 1 and done.awarded_by_id == people.mission.id
    assert label.Proposal.from_json(done.proposal) == proposal
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "label.award"))
    assert entry is not None and entry.demarche_id == d.id
    assert entry.data == {"level": "silver", "proposed_level": None, "rules_version": 1}
    # The shipped rules became version 1 when first needed, audited too.
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "label.install_default")
    )


def test_the_proposed_level_needs_no_reason_and_withdrawing_one_does(make_demarche, people):
    d = make_demarche("closed")
    with pytest.raises(InvalidFields) as refused:
        label.award(db.session, d, None, "", people.mission, utcnow())
    assert str(refused.value.errors["level"]) == "the démarche holds no label to withdraw"
    db.session.rollback()
    with pytest.raises(InvalidFields) as refused:
        label.award(db.session, d, "platinum", "x", people.mission, utcnow())
    assert "level" in refused.value.errors
    db.session.rollback()
    label.award(db.session, d, "bronze", "Raison publique.", people.mission, utcnow())
    # The proposal is none: withdrawing gives it, no reason needed.
    done = label.award(db.session, d, "none", "", people.mission, utcnow())
    db.session.commit()
    assert done.level is None
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "label.withdraw"))


def test_the_rules_version_a_demarche_was_judged_by_stays_when_the_rules_change(
    make_demarche, people
):
    d = make_demarche("closed")
    label.award(db.session, d, "bronze", "Un questionnaire papier.", people.mission, utcnow())
    db.session.commit()
    # The mission makes bronze demand more: version 2, in force from now on.
    stricter = edited(_set(("levels", 0, "label"), "★ Charte tenue"))
    row = label.save(db.session, people.mission, stricter, as_of=utcnow() + timedelta(hours=1))
    db.session.commit()
    assert row.number == 2 and row.is_current
    assert label.in_force(db.session).version == 2
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "label.rules"))

    found = label.award_of(db.session, d)
    assert found is not None and found.rules_version == 1
    assert label.rules_for(db.session, d).version == 1
    assert label.rules_for(db.session, d).label_of("bronze") == "★ Charte respectée"
    # Judged again (a correction): by its own version still.
    label.award(db.session, d, "silver", "Correction.", people.mission, utcnow())
    db.session.commit()
    assert label.award_of(db.session, d).rules_version == 1
    # A démarche judged for the first time now is judged by version 2.
    other = make_demarche("closed")
    assert label.proposal_for(db.session, other, as_of=utcnow()).rules_version == 2
    label.award(db.session, other, "bronze", "Raison.", people.mission, utcnow())
    assert label.award_of(db.session, other).rules_version == 2


def test_two_saves_at_once_one_is_refused_in_french(ctx, people, monkeypatch):
    from workflows.label import versions

    label.ensure_current(db.session, actor=people.mission, as_of=utcnow())
    db.session.commit()
    # The other save read the same highest number before this one committed.
    monkeypatch.setattr(versions, "_next_number", lambda session: 1)
    with pytest.raises(Conflict) as refused:
        label.save(db.session, people.mission, default_data(), as_of=utcnow())
    assert "meanwhile" in str(refused.value)
    db.session.rollback()
    assert label.in_force(db.session).version == 1


def test_the_labels_held_highest_first_withdrawn_ones_aside(make_demarche, people):
    bronze, gold, withdrawn = (make_demarche("closed", title=t) for t in ("B", "G", "W"))
    for d, level in ((bronze, "bronze"), (gold, "gold"), (withdrawn, "silver")):
        label.award(db.session, d, level, "Raison publique.", people.mission, utcnow())
    label.award(db.session, withdrawn, None, "Retiré.", people.mission, utcnow())
    db.session.commit()
    found = label.held(db.session)
    assert [(h.demarche.title, h.level, h.label) for h in found] == [
        ("G", "gold", "★★★ Démarche exemplaire"),
        ("B", "bronze", "★ Charte respectée"),
    ]
    only = label.held(db.session, among=select(Demarche.id).where(Demarche.title == "B"))
    assert [h.demarche.id for h in only] == [bronze.id]
    assert label.held_by(db.session, withdrawn) is None
    assert label.held_by(db.session, gold).proposal.rules_version == 1
