"""The public pages anonymous visitors read come from the cache, and never show an old record."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from backoffice import create_app
from backoffice.extensions import db
from backoffice.public import cache as public_cache
from tests import factories
from tests.support import PASSWORD, csrf_from, login
from workflows import contributions
from workflows.clock import utcnow
from workflows.imports import Importer
from workflows.models import Contribution, Demarche
from workflows.transitions import transition

DATA = Path(__file__).parent.parent / "data" / "reference"


def comment(d, people, body: str) -> Contribution:
    c = factories.contribution(
        d,
        people.mission,
        body=body,
        author=factories.participant("avis@exemple.fr"),
    )
    db.session.commit()
    return c


def rename_behind_the_orm(d, title: str) -> None:
    """A change no session sees: only a page rendered again would show it."""
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE demarches SET title = :t WHERE id = :id"), {"t": title, "id": d.id}
        )


def test_the_page_is_rendered_once_and_again_after_a_change(client, make_demarche, people):
    d = make_demarche("consultation", title="Routes du Comminges")
    url = f"/demarches/{d.slug}"
    assert "Routes du Comminges" in client.get(url).text
    rename_behind_the_orm(d, "Titre jamais rendu")
    assert "Routes du Comminges" in client.get(url).text  # served from the cache

    comment(d, people, "Un rond-point à Saint-Gaudens")  # a committed change of the démarche
    page = client.get(url).text
    assert "Un rond-point à Saint-Gaudens" in page and "Titre jamais rendu" in page


def test_moderation_and_stage_changes_show_at_once(client, make_demarche, people):
    d = make_demarche("consultation")
    c = comment(d, people, "Propos injurieux")
    item_url = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    assert "Propos injurieux" in client.get(item_url).text
    contributions.moderate(
        db.session, c, "hide", actor=people.mission, reason="injure", as_of=utcnow()
    )
    db.session.commit()
    page = client.get(item_url).text
    assert "Propos injurieux" not in page and "masqué par la modération : injure" in page

    home = client.get("/").text
    assert home.count('class="badge open"') == 1
    transition(
        db.session, d.id, "synthesis", actor=people.mission, as_of=utcnow(), comment="Clôture"
    )
    db.session.commit()
    assert client.get("/").text.count('class="badge open"') == 0


def test_each_visitor_gets_their_own_csrf_token(app, make_demarche):
    d = make_demarche("consultation")
    first, second = app.test_client(), app.test_client()
    url = f"/demarches/{d.slug}"
    token_1, token_2 = csrf_from(first.get(url).text), csrf_from(second.get(url).text)
    assert token_1 and token_2 and token_1 != token_2
    assert "\x00" not in second.get(url).text
    # The token served from the cache is the one the visitor's session holds: a form posts.
    second.get(f"/demarches/{d.slug}/elements/{d.items[0].id}")
    page = second.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text  # a cached page
    response = second.post(
        f"/demarches/{d.slug}/elements/{d.items[0].id}/contribuer",
        data={"csrf_token": csrf_from(page), "kind": "comment", "body": "Sans compte"},
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_signed_in_people_and_messages_are_never_served_the_cached_page(
    client, make_demarche, citizen
):
    d = make_demarche("consultation")
    url = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    anonymous = client.get(url).text
    login(client, citizen, PASSWORD)
    page = client.get(url).text
    assert page != anonymous and "Se déconnecter" in page
    response = client.post(
        f"{url}/contribuer",
        data={"csrf_token": csrf_from(page), "kind": "comment", "body": "Mon avis"},
    )
    assert "Merci" in client.get(response.headers["Location"]).text  # the message is seen


def test_another_process_changing_the_record_moves_the_page_on(
    app, app_config, client, make_demarche, people
):
    """The workers bump the same generations as the web (here a second app on the same store)."""
    d = make_demarche("consultation")
    url = f"/demarches/{d.slug}"
    client.get(url)
    worker = create_app(app_config)
    with worker.app_context():
        found = db.session.get(Demarche, d.id)
        factories.contribution(found, None, body="Importé par le worker")
        db.session.commit()
        db.session.remove()
    assert "Importé par le worker" in client.get(url).text


def test_a_page_number_out_of_range_is_not_kept(app, client, make_demarche):
    d = make_demarche("consultation")
    folder = Path(app.config["PUBLIC_CACHE_URL"].removeprefix("file://"))
    url = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    client.get(url)
    kept = len(list(folder.iterdir()))
    for n in (2, 99, 123456789, -4):
        assert client.get(f"{url}?page={n}").status_code == 200
    assert client.get(f"{url}?page=1&utm=campagne").status_code == 200
    assert len(list(folder.iterdir())) == kept


def test_a_store_that_does_not_answer_only_costs_the_cache(app_config, make_demarche, people):
    away = create_app({**app_config, "PUBLIC_CACHE_URL": "redis://127.0.0.1:9/0"})
    d = make_demarche("consultation")
    visitor = away.test_client()
    assert visitor.get(f"/demarches/{d.slug}").status_code == 200
    with away.app_context():
        found = db.session.get(Demarche, d.id)
        factories.contribution(found, None, body="Toujours à jour")
        db.session.commit()  # the bump fails quietly
        db.session.remove()
    assert "Toujours à jour" in visitor.get(f"/demarches/{d.slug}").text


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "none"])
def test_the_store_is_chosen_by_its_address(url):
    found = public_cache.backend(url, 60)
    assert (found is None) == (url == "none")
    with pytest.raises(ValueError, match="PUBLIC_CACHE_URL"):
        public_cache.backend("memcached://x", 60)


def test_an_import_of_many_rows_moves_the_page_on(client, make_demarche):
    """An import writes its rows in one statement, which the flush never sees."""
    d = make_demarche("consultation")
    url = f"/demarches/{d.slug}"
    assert "contributions" in client.get(url).text
    raw = (DATA / "decidim-comments-nancy-2019.csv").read_bytes()
    importer = Importer(db.session, d, "decidim")
    assert importer.apply(importer.preview(raw), actor=None, as_of=utcnow()) == 44
    db.session.commit()
    page = client.get(url).text
    assert any(item.title in page for item in db.session.get(Demarche, d.id).items[1:])
