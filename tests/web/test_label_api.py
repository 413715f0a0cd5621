"""The label in the API: ``PUT …/label`` (the mission only; a level other than the proposal
without a reason refused in French, nothing saved), the proposal and the award in
``GET …/evaluation``, and ``GET /api/v1/label/rules``."""

from __future__ import annotations

from sqlalchemy import select

from backoffice.extensions import db
from workflows.models import LabelAward


def test_the_mission_awards_a_closed_demarche_its_label(api, people, citizen, make_demarche):
    d = make_demarche("closed")
    url = f"/api/v1/demarches/{d.id}/label"
    for someone in (people.agent, people.elected, citizen):
        refused = api(someone, "put", url, json={"level": "bronze", "reason": "x"})
        assert refused.status_code == 403
        assert refused.json["message"] == "seule la mission attribue le label"

    no_reason = api(people.mission, "put", url, json={"level": "gold"})
    assert no_reason.status_code == 422
    assert no_reason.json["errors"] == {
        "reason": [
            "un niveau au-dessus de celui que proposent les règles demande une raison publique"
        ]
    }
    assert db.session.scalar(select(LabelAward.id).limit(1)) is None
    for body in (
        {"level": "platine", "reason": "x"},
        {"level": "", "reason": "x"},
        {"reason": "x"},
        {"level": "gold", "x": 1},
    ):
        assert api(people.mission, "put", url, json=body).status_code == 422, body
    unknown = api(people.mission, "put", url, json={"level": "platine"})
    assert unknown.json["errors"] == {"level": ["valeur inconnue"]}
    assert (
        api(people.mission, "put", url, json={"level": "gold", "reason": "x" * 2001}).status_code
        == 422
    )

    done = api(
        people.mission,
        "put",
        url,
        json={"level": "bronze", "reason": "Questionnaire papier remis à l’atelier."},
    )
    assert done.status_code == 200, done.json
    assert done.json["level"] == "bronze" and done.json["label"] == "★ Charte respectée"
    assert done.json["rules_version"] == 1 and done.json["proposed_level"] is None
    assert done.json["reason"] == "Questionnaire papier remis à l’atelier."

    seen = api(citizen, "get", f"/api/v1/demarches/{d.id}/evaluation").json
    assert seen["label"]["level"] == "bronze"
    proposed = seen["proposed_label"]
    assert proposed["level"] is None and proposed["gates_met"] is False
    survey = next(c for c in proposed["criteria"] if c["indicator"] == "survey_sent")
    assert survey == {
        "level": None,
        "indicator": "survey_sent",
        "measure": "value",
        "comparison": "at_least",
        "threshold": 1.0,
        "label": "Le questionnaire est envoyé aux participants",
        "value": 0.0,  # closed without the survey sent
        "met": False,
        "status": "not_met",
    }
    synthesis = next(c for c in proposed["criteria"] if c["indicator"] == "synthesis_published")
    assert synthesis["status"] == "met" and synthesis["value"] == 1.0
    assert [lv["code"] for lv in proposed["levels"]] == ["bronze", "silver", "gold"]

    withdrawn = api(people.mission, "put", url, json={"level": None})
    assert withdrawn.status_code == 200 and withdrawn.json["level"] is None


def test_no_label_before_the_closing(api, people, make_demarche):
    d = make_demarche("feedback")
    refused = api(
        people.mission,
        "put",
        f"/api/v1/demarches/{d.id}/label",
        json={"level": "gold", "reason": "x"},
    )
    assert refused.status_code == 409
    assert "close" in refused.json["message"]
    assert (
        api(
            people.mission, "put", "/api/v1/demarches/999999/label", json={"level": "gold"}
        ).status_code
        == 404
    )


def test_anyone_reads_the_rules_in_force(api, citizen):
    response = api(citizen, "get", "/api/v1/label/rules")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["version"] == 1
    assert [lv["code"] for lv in body["levels"]] == ["bronze", "silver", "gold"]
    assert body["levels"][2]["label"] == "★★★ Démarche exemplaire"
    assert {g["indicator"] for g in body["gates"]} == {
        "synthesis_published",
        "feedback_contributors_told",
        "survey_sent",
    }
    assert "mobilisation_per_1000" in body["indicators"]
