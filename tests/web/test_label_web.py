"""The label in the back office — the proposal on the démarche's sheet with each criterion, the
mission's award form (a level above the proposal refused without a reason, inside the form),
the rules editor (a new version on save; bad edits refused field by field, nothing saved) —
and on the public side: the démarche's page and ``/label``, citizen text escaped."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from backoffice.extensions import db
from tests.support import login, logout, post_form
from workflows import label
from workflows.models import AuditEntry, LabelAward, LabelRules

REASON = "Questionnaire papier remis à l’atelier <script>alert(1)</script>"


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def text_of(node) -> str:
    return " ".join(node.get_text(" ").split())


def row(page, block: str, indicator: str):
    """The row of ``indicator`` in the table captioned ``block`` (``label-gates``…)."""
    table = page.select_one(f"#{block}").find_parent("table")
    return table.select_one(f'tr[data-indicator="{indicator}"]')


def test_the_mission_awards_the_label_from_the_sheet(client, people, make_demarche):
    d = make_demarche("closed", title="Pistes cyclables")
    url = f"/admin/demarche/details/?id={d.id}"
    login(client, people.agent)
    page = soup_of(client.get(url))
    shown = text_of(page.select_one("#evaluation"))
    assert "La version 1 des règles ne propose aucun niveau." in shown
    survey = row(page, "label-gates", "survey_sent")
    assert survey["data-status"] == "not_met"  # closed, the survey never sent
    assert "non tenu" in text_of(survey)
    synthesis = row(page, "label-gates", "synthesis_published")
    assert text_of(synthesis).endswith("oui oui ✓ tenu")
    assert page.select_one("#label-form") is None  # the mission's
    refused = post_form(
        client, url, {"id": d.id, "level": "gold", "reason": "x"}, to="/admin/demarche/label/"
    )
    assert refused.status_code == 403
    logout(client)

    login(client, people.mission)
    page = soup_of(client.get(url))
    assert page.select_one("#label-level-none").has_attr("checked")  # the proposal
    refused = post_form(
        client, url, {"id": d.id, "level": "silver", "reason": " "}, to="/admin/demarche/label/"
    )
    assert refused.status_code == 422
    form = soup_of(refused).select_one("#label-form")
    assert text_of(form.select_one("#label-reason-error")) == (
        "un niveau au-dessus de celui que proposent les règles demande une raison publique"
    )
    assert form.select_one("#label-level-silver").has_attr("checked")
    assert db.session.scalar(select(LabelAward.id).limit(1)) is None

    done = post_form(
        client, url, {"id": d.id, "level": "silver", "reason": REASON}, to="/admin/demarche/label/"
    )
    assert done.status_code == 302 and done.location.endswith("#label")
    shown = text_of(soup_of(client.get(url)).select_one("#evaluation"))
    assert "Attribué : ★★ Démarche de qualité" in shown
    logout(client)

    # The public page shows it, the reason escaped, and /label lists it.
    public = client.get(f"/demarches/{d.slug}")
    section = soup_of(public).select_one("#label")
    assert section is not None
    assert "★★ Démarche de qualité" in text_of(section)
    assert "<script>alert(1)</script>" not in public.text
    assert "&lt;script&gt;" in public.text
    assert row(section, "label-gates", "survey_sent") is not None
    listing = client.get("/label")
    assert listing.status_code == 200
    item = soup_of(listing).select_one("ul.labelled li")
    assert "Pistes cyclables" in text_of(item) and "★★ Démarche de qualité" in text_of(item)
    assert "<script>alert(1)</script>" not in listing.text


def test_the_public_label_page_without_labels_gives_the_rules(client, make_demarche):
    make_demarche("closed")  # closed, never judged: not listed
    page = soup_of(client.get("/label"))
    assert "Aucune démarche n’a encore reçu le label." in text_of(page)
    rules = text_of(page.select_one("#rules-gold").find_parent("table"))
    assert "Au moins 2 participants pour 1 000 habitants" in rules
    assert "au moins 2 pour 1 000 habitants" in rules


def post_rules(client, change=None):
    """The editor's form as shown, with ``change`` ({field: value}) typed in."""
    page = client.get("/admin/label/")
    assert page.status_code == 200
    soup = soup_of(page)
    form = soup.select_one("#label-rules-form")
    data = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        if field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            data[field["name"]] = chosen["value"]
        elif field.name == "textarea":
            data[field["name"]] = field.get_text()
        else:
            data[field["name"]] = field.get("value", "")
    data.update(change or {})
    return client.post("/admin/label/", data=data)


def test_the_mission_edits_the_rules_into_a_new_version(client, people):
    login(client, people.agent)
    assert client.get("/admin/label/").status_code in (302, 403)
    logout(client)
    login(client, people.mission)

    refused = post_rules(client, {"gates-1-threshold": "90", "bronze-0-indicator": "bonheur"})
    assert refused.status_code == 422
    soup = soup_of(refused)
    assert text_of(soup.select_one("#gates-1-threshold-error")) == (
        "un seuil entre 0 et 1 pour cet indicateur"
    )
    assert text_of(soup.select_one("#bronze-0-indicator-error")) == "indicateur inconnu « bonheur »"
    assert soup.select_one('input[name="gates-1-threshold"]')["value"] == "90"  # kept
    assert db.session.scalar(select(func.count(LabelRules.id))) == 0

    refused = post_rules(client, {"gold-0-threshold": "0,8"})  # gold asks less than silver
    assert refused.status_code == 422
    assert "doit exiger au moins ce qu’exige" in text_of(
        soup_of(refused).select_one("#gold-order-error")
    )
    assert db.session.scalar(select(func.count(LabelRules.id))) == 0

    done = post_rules(
        client,
        {
            "bronze-label": "★ Charte tenue",
            "gold-8-indicator": "mobilisation_channels",
            "gold-8-comparison": "at_least",
            "gold-8-threshold": "2",
            "gold-8-label": "Au moins deux canaux",
        },
    )
    assert done.status_code == 302, done.text
    rules = label.in_force(db.session)
    assert rules.version == 2  # the shipped rules became version 1 first
    assert rules.label_of("bronze") == "★ Charte tenue"
    assert rules.levels[2].criteria[-1].indicator == "mobilisation_channels"
    assert rules.levels[2].criteria[-1].threshold == 2
    # The version before stays readable as it was.
    first = soup_of(client.get("/admin/label/?version=1")).select_one("#version-shown")
    assert "★ Charte respectée" in text_of(first) and "Au moins deux canaux" not in text_of(first)
    assert client.get("/admin/label/?version=9").status_code == 404


def test_an_empty_row_is_left_out_and_the_version_is_audited(client, people):
    login(client, people.mission)
    done = post_rules(client, {"note": "Même règles, une note."})
    assert done.status_code == 302
    row = label.current_row(db.session)
    assert row is not None and row.number == 2 and row.note == "Même règles, une note."
    assert label.in_force(db.session).gates == label.shipped().gates
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["label.install_default", "label.rules"]
