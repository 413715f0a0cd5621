"""Items keep places 1, 2, 3 … in their démarche — added, moved, deleted one by one or many
at once from the back office — and an import names them by their place."""

from __future__ import annotations

import threading

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, login
from workflows.clock import utcnow
from workflows.imports import Importer
from workflows.items import add_item, delete_item, update_item
from workflows.models import Contribution, Demarche, Item, User


def places(demarche) -> list[tuple[int, str]]:
    demarche_id = demarche if isinstance(demarche, int) else demarche.id
    db.session.expire_all()
    return [
        (i.position, i.title)
        for i in db.session.scalars(
            select(Item).where(Item.demarche_id == demarche_id).order_by(Item.position)
        )
    ]


def comment(demarche, item) -> None:
    factories.contribution(demarche, None, body="Avis", item=item)


def test_bulk_delete_deletes_what_it_may_and_names_what_it_keeps(client, people, make_demarche):
    """Flask-Admin's own action compared the ids as text: a 500 on PostgreSQL."""
    d = make_demarche("consultation")  # « Engagement n°1 » at place 1
    for title in ("Deux", "Trois", "Quatre"):
        add_item(db.session, people.mission, d, title=title, as_of=utcnow())
    first, _, third, _ = d.items
    comment(d, first)
    comment(d, third)
    db.session.commit()
    login(client, people.mission)
    page = client.get("/admin/item/").text
    response = client.post(
        "/admin/item/action/",
        data={
            "csrf_token": csrf_from(page),
            "action": "delete",
            "rowid": [str(i.id) for i in d.items],
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "2 éléments supprimés." in response.text
    assert (
        "« Engagement n°1 » est gardé : cet élément a 1 contributions : il ne peut pas être "
        "supprimé"
    ) in response.text
    assert "« Trois » est gardé" in response.text
    assert places(d) == [(1, "Engagement n°1"), (2, "Trois")]
    assert db.session.query(Contribution).count() == 2


def test_bulk_delete_only_reaches_the_items_the_user_may_see(client, people, make_demarche):
    theirs = make_demarche("launch", agent=people.other_agent)
    add_item(db.session, people.mission, theirs, title="Pas à moi", as_of=utcnow())
    db.session.commit()
    login(client, people.agent)
    page = client.get("/admin/item/").text
    client.post(
        "/admin/item/action/",
        data={
            "csrf_token": csrf_from(page),
            "action": "delete",
            "rowid": [str(theirs.items[0].id), "x", "99999999999"],
        },
    )
    assert places(theirs) == [(1, "Pas à moi")]


def test_places_stay_one_to_n_as_items_are_added_moved_and_deleted(people, make_demarche):
    d = make_demarche("launch")
    m = people.mission
    now = utcnow()
    a = add_item(db.session, m, d, title="A", as_of=now)
    add_item(db.session, m, d, title="B", as_of=now)
    add_item(db.session, m, d, title="Devant", position=1, as_of=now)
    add_item(db.session, m, d, title="Loin", position=50, as_of=now)  # after the last
    add_item(db.session, m, d, title="Milieu", position=3, as_of=now)
    assert places(d) == [(1, "Devant"), (2, "A"), (3, "Milieu"), (4, "B"), (5, "Loin")]
    update_item(db.session, m, a, title="A", text="", position=5, as_of=now)
    assert places(d) == [(1, "Devant"), (2, "Milieu"), (3, "B"), (4, "Loin"), (5, "A")]
    update_item(db.session, m, a, title="A", text="", position=1, as_of=now)
    assert places(d) == [(1, "A"), (2, "Devant"), (3, "Milieu"), (4, "B"), (5, "Loin")]
    delete_item(
        db.session, m, db.session.scalar(select(Item).where(Item.title == "Milieu")), as_of=now
    )
    assert places(d) == [(1, "A"), (2, "Devant"), (3, "B"), (4, "Loin")]
    db.session.commit()


def test_an_import_naming_items_by_position_finds_them(people, make_demarche):
    """Two items given the same place used to share it: every row naming it was refused as
    « élément inconnu »."""
    d = make_demarche("consultation")
    add_item(db.session, people.mission, d, title="Option A", position=1, as_of=utcnow())
    add_item(db.session, people.mission, d, title="Option B", position=1, as_of=utcnow())
    db.session.commit()
    assert places(d) == [(1, "Option B"), (2, "Option A"), (3, "Engagement n°1")]
    preview = Importer(db.session, d, "csv").preview(
        "élément;texte\n1;Pour B\n2;Pour A\n3;Pour l’engagement\n".encode()
    )
    assert preview.refused == []
    by_id = {f"id:{i.id}": i.title for i in d.items}
    assert [by_id[r.item_key] for r in preview.rows] == ["Option B", "Option A", "Engagement n°1"]


def test_new_items_of_an_import_take_the_next_places(people, make_demarche):
    d = make_demarche("consultation")
    raw = (
        b"id,body,commentable_id,commentable_type,root_commentable_url,created_at,depth\n"
        b"1,Un,7,Decidim::Proposals::Proposal,https://ex.fr/proposals/7,2019-01-01,0\n"
        b"2,Deux,8,Decidim::Proposals::Proposal,https://ex.fr/proposals/8,2019-01-01,0\n"
    )
    importer = Importer(db.session, d, "decidim")
    importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    assert [p for p, _ in places(d)] == [1, 2, 3]


def test_the_migration_renumbers_the_items_that_shared_a_place(app, people, make_demarche):
    d = make_demarche("launch")
    other = make_demarche("launch", title="Autre")
    db.session.commit()
    d, other = d.id, other.id
    db.session.remove()
    downgrade(revision="e3c1a7d5b920-1")  # just before this one
    try:
        with db.engine.begin() as conn:
            for demarche_id, title, position in [
                (d, "Deuxième", 2),
                (d, "Premier", 1),
                (d, "Premier bis", 1),
                (d, "Dernier", 7),
                (other, "Seul", 4),
            ]:
                conn.execute(
                    text(
                        "INSERT INTO items (demarche_id, title, text, position, created_at) "
                        "VALUES (:d, :t, '', :p, :now)"
                    ),
                    {"d": demarche_id, "t": title, "p": position, "now": utcnow()},
                )
    finally:
        upgrade()
    assert places(d) == [(1, "Premier"), (2, "Premier bis"), (3, "Deuxième"), (4, "Dernier")]
    assert places(other) == [(4, "Seul")]  # no duplicates: left as it was
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError, whichever driver
        add = Item(demarche_id=d, title="Même place", text="", position=1, created_at=utcnow())
        db.session.add(add)
        db.session.flush()
    db.session.rollback()


def test_two_people_adding_items_at_once_take_different_places(app, people, make_demarche):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers by itself)")
    d = make_demarche("launch")
    demarche_id, mission_id = d.id, people.mission.id
    db.session.commit()
    barrier = threading.Barrier(2, timeout=10)
    failures = []

    def add(title):
        with app.app_context(), Session(db.engine) as session:
            demarche = session.get(Demarche, demarche_id)
            actor = session.get(User, mission_id)
            barrier.wait()
            try:
                add_item(session, actor, demarche, title=title, position=1, as_of=utcnow())
                session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=add, args=(t,)) for t in ("Nord", "Sud")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sorted(p for p, _ in places(demarche_id)) == [1, 2]
