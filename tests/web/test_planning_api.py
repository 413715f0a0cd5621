"""A script plans a démarche's methods as the back office does: the suggestions with their
reasons (and what-ifs), the plan, the events that name their method, the channels', and the
démarche's ``planned_methods`` and ``used_methods``."""

from __future__ import annotations

from datetime import timedelta

from workflows.clock import local_date, utcnow


def test_suggestions_weigh_the_saisine_and_what_ifs(api, people, make_demarche, catalogue):
    ends_by = local_date(utcnow()) + timedelta(weeks=6, days=2)
    d = make_demarche(
        "draft",
        participation_level="consultation",
        expected_participants="2000",
        budget="10000",
        participation_ends_by=ends_by.isoformat(),
    )
    url = f"/api/v1/demarches/{d.id}/methods/suggestions"
    body = api(people.agent, "get", url).json
    assert body["need"] == {
        "level": "consultation",
        "size": 2000,
        "budget": 10000,
        "weeks": 6,
        "public": "Riverains et cyclistes",
    }
    by_slug = {s["slug"]: s for s in body["items"]}
    conference = by_slug["conference-de-citoyens"]
    assert conference["fits"] is False
    against = {r["about"]: r["text"] for r in conference["reasons"] if not r["fits"]}
    assert against["cost"].startswith("trop cher pour le budget indiqué")
    assert against["time"] == "délai de préparation de 12 semaines, 6 semaines disponibles"
    fits = [s["fits"] for s in body["items"]]
    assert fits == sorted(fits, reverse=True)  # what fits comes first
    # What if the department had a year, 300 k€ and 25 people, in co-construction?
    what_if = api(
        people.agent, "get", url + "?level=co-construction&size=25&budget=300000&weeks=52"
    ).json
    assert what_if["need"]["weeks"] == 52
    assert {s["slug"]: s for s in what_if["items"]}["conference-de-citoyens"]["fits"] is True
    # Another department's agent does not see the démarche.
    assert api(people.other_agent, "get", url).status_code == 404
    assert api(people.agent, "get", url + "?level=vote").status_code == 422


def test_the_plan_and_the_methods_used_appear_on_the_demarche(
    api, people, make_demarche, catalogue
):
    d = make_demarche("launch")
    plan = api(
        people.agent,
        "put",
        f"/api/v1/demarches/{d.id}/methods/planned",
        json={"methods": ["atelier-citoyen", "world-cafe"]},
    )
    assert plan.status_code == 200
    assert [m["slug"] for m in plan.json["items"]] == [
        "atelier-citoyen",
        "world-cafe",
        "restitution-publique",
    ]
    starts = utcnow() + timedelta(days=10)
    created = api(
        people.agent,
        "post",
        f"/api/v1/demarches/{d.id}/events",
        json={
            "kind": "meeting",
            "title": "Café citoyen au marché",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "place": "Place du marché",
            "capacity": 60,
            "method": "world-cafe",
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["method"] == "world-cafe"
    event_url = created.headers["Location"]
    workshop = api(
        people.agent,
        "post",
        f"/api/v1/demarches/{d.id}/events",
        json={
            "kind": "workshop",
            "title": "Atelier",
            "starts_at": (starts + timedelta(days=1)).isoformat(),
            "ends_at": (starts + timedelta(days=1, hours=2)).isoformat(),
            "place": "Mairie",
            "capacity": 20,
        },
    )
    assert workshop.json["method"] == "atelier-citoyen"  # the kind's usual method
    moved = api(people.agent, "patch", event_url, json={"method": "forum-ouvert", "capacity": 80})
    assert moved.status_code == 200
    assert moved.json["method"] == "forum-ouvert" and moved.json["capacity"] == 80
    assert moved.json["title"] == "Café citoyen au marché"  # kept
    named = api(
        people.mission,
        "put",
        f"/api/v1/demarches/{d.id}/methods/channels/mail",
        json={"method": "exposition-registre"},
    )
    assert named.status_code == 200
    sheet = api(people.agent, "get", f"/api/v1/demarches/{d.id}").json
    assert [m["slug"] for m in sheet["planned_methods"]] == [
        "atelier-citoyen",
        "world-cafe",
        "restitution-publique",
    ]
    assert [(u["via"], u["slug"]) for u in sheet["used_methods"]] == [
        ("event", "forum-ouvert"),
        ("event", "atelier-citoyen"),
        ("channel", "exposition-registre"),
    ]
    listed = api(people.agent, "get", f"/api/v1/demarches/{d.id}/events").json
    assert [e["method"] for e in listed["items"]] == ["forum-ouvert", "atelier-citoyen"]


def test_bad_plans_and_methods_are_refused_in_french(api, people, make_demarche, catalogue):
    d = make_demarche("draft")
    url = f"/api/v1/demarches/{d.id}/methods/planned"
    unknown = api(people.agent, "put", url, json={"methods": ["chapeau"]})
    assert unknown.status_code == 422
    assert "pas de méthode « chapeau »" in str(unknown.json["errors"])
    assert api(people.agent, "get", f"/api/v1/demarches/{d.id}").json["planned_methods"] == []
    assert api(people.agent, "put", url, json={"methods": "world-cafe"}).status_code == 422
    assert api(people.other_agent, "put", url, json={"methods": []}).status_code == 404
    assert api(people.elected, "put", url, json={"methods": []}).status_code in (403, 404)
    channel = api(
        people.mission,
        "put",
        f"/api/v1/demarches/{d.id}/methods/channels/workshop",
        json={"method": "world-cafe"},
    )
    assert channel.status_code == 422
    assert "par leurs événements" in str(channel.json["errors"])
    participants = api(
        people.agent, "patch", f"/api/v1/demarches/{d.id}", json={"expected_participants": 0}
    )
    assert participants.status_code == 422
    assert "entre 1 et" in str(participants.json["errors"])
