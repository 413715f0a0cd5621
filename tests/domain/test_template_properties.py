"""Property tests (Hypothesis) of the mailings' template checker and of the API that writes
mailings, over generated templates — well formed or broken, harmless or hostile (huge widths,
doubling, nested loops over ranges, unknown names, filters with odd arguments): the checker
only ever accepts or refuses with its French message, in bounded memory; the API answers 201,
200 or 422 (never a 500), and a refusal leaves the mailings as they were (no row made, the
row patched unchanged)."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backoffice.extensions import db
from workflows import mailings
from workflows.errors import InvalidFields
from workflows.models import Demarche, Mailing
from workflows.text import clean_text

#: Values a template may name (and a few it may not).
VALUES = st.sampled_from(
    [
        "name",
        "demarche.title",
        "demarche.url",
        "synthesis_url",
        "unsubscribe_url",
        "decisions",
        "contributions",
        "contributions[0].text",
        "decisions|length",
        "event",
        "nom",
        "name.__class__",
        "range(100000)",
        "range(100000)|list",
        "range(7)",
        "'é' * 300000",
        "[name] * 100000",
        "contributions * 100000",
        "ns.s",
        "loop",
        "42",
        "10 ** 9",
        "'%s'",
        "''",
    ]
)
FILTERS = st.sampled_from(
    [
        "upper",
        "title",
        "length",
        "string",
        "list",
        "first",
        "sort",
        "unique",
        "sum",
        "e",
        "safe",
        "striptags",
        "urlencode",
        "int",
        "truncate(5)",
        "default('x')",
        "center(10)",
        "center(5000000)",
        "indent(100000)",
        "indent('ab' * 1000, true)",
        "replace('', 'abc')",
        "replace('a', name * 1000)",
        "join('--')",
        "join(name * 1000)",
        "format(1, 2)",
        "wordwrap(1)",
        "wordwrap(3, wrapstring='-' * 100)",
        "batch(1000000, 'x')",
        "slice(1000000)",
        "map('center', 150000)",
        "map(attribute='text')",
        "pprint",
        "tojson",
        "urlize",
    ]
)


@st.composite
def expressions(draw) -> str:
    expression = draw(VALUES)
    for _ in range(draw(st.integers(0, 2))):
        expression = f"{expression}|{draw(FILTERS)}"
    operator = draw(st.sampled_from(["", "~", "+", "*", "%"]))
    if operator:
        other = draw(st.one_of(VALUES, st.integers(-3, 10**7).map(str)))
        expression = f"({expression}) {operator} ({other})"
    return expression


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="{}%#"),
    max_size=12,
)
BROKEN = st.sampled_from(["{{", "}}", "{%", "%}", "{% for %}", "{% endfor %}", "{#", "{{ ) }}"])


def statements(body: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        TEXT,
        BROKEN,
        expressions().map(lambda e: "{{ " + e + " }}"),
        st.tuples(expressions(), body).map(
            lambda p: "{% for x in " + p[0] + " %}" + p[1] + "{% endfor %}"
        ),
        st.tuples(expressions(), body, body).map(
            lambda p: "{% if " + p[0] + " %}" + p[1] + "{% else %}" + p[2] + "{% endif %}"
        ),
        expressions().map(lambda e: "{% set ns = namespace(s=" + e + ") %}"),
        st.just("{% set ns.s = ns.s ~ ns.s %}"),
        body.map(lambda b: "{% macro m(n) %}" + b + "{{ m(n) }}{% endmacro %}{{ m(1) }}"),
    )


TEMPLATES = st.recursive(
    statements(st.just("")),
    lambda inner: st.lists(statements(inner), max_size=4).map("".join),
    max_leaves=8,
)
PROPERTIES = settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written in the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTIES
@given(source=TEMPLATES, field_name=st.sampled_from(["subject", "body"]))
def test_the_checker_accepts_or_refuses_with_its_message_in_bounded_memory(source, field_name):
    tracemalloc.start()
    try:
        try:
            mailings.check_template(source, field_name, with_event=True)
        except InvalidFields as refused:
            assert set(refused.errors) == {field_name}
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # All a render may build together is 20 times its 200,000 characters (4 bytes at most
    # each); nothing a template asks for goes past that.
    assert peak < 24_000_000, source


@pytest.fixture
def quick(app, monkeypatch):
    """A tenth of the default time budget: each refusal is quicker, the properties the same."""
    monkeypatch.setitem(app.config, "MAILING_RENDER_SECONDS", 0.05)


@PROPERTIES
@given(subject=TEMPLATES, body=TEMPLATES)
def test_the_api_never_fails_nor_writes_half_a_mailing(
    quick, api, make_demarche, people, subject, body
):
    d = db.session.scalar(select(Demarche).limit(1)) or make_demarche("consultation")
    fields = {"kind": "newsletter", "audience": "contributors", "demarche_id": d.id}
    existing = db.session.scalar(select(Mailing).order_by(Mailing.id).limit(1))
    if existing is None:
        good = {**fields, "subject": "Nouvelles", "body": "Bonjour {{ name }}"}
        assert api(people.mission, "post", "/api/v1/mailings", json=good).status_code == 201
        existing = db.session.scalar(select(Mailing).order_by(Mailing.id).limit(1))
    count = db.session.scalar(select(func.count()).select_from(Mailing))

    created = api(
        people.mission,
        "post",
        "/api/v1/mailings",
        json={**fields, "subject": subject, "body": body},
    )
    assert created.status_code in (201, 400, 422), created.get_data(as_text=True)
    db.session.expire_all()
    after = db.session.scalar(select(func.count()).select_from(Mailing))
    if created.status_code == 201:
        assert after == count + 1
        made = db.session.get(Mailing, created.json["id"])
        # The subject is stored as every title is (workflows/text.py): one line, no
        # control or bidi characters.
        assert (made.subject, made.body) == (clean_text(subject, single_line=True), body)
    else:
        assert after == count
        assert created.json["message"]

    kept = (existing.subject, existing.body, existing.updated_at)
    patched = api(people.mission, "patch", f"/api/v1/mailings/{existing.id}", json={"body": body})
    assert patched.status_code in (200, 400, 422), patched.get_data(as_text=True)
    db.session.expire_all()
    now = db.session.get(Mailing, existing.id)
    if patched.status_code == 200:
        assert now.body == body
    else:
        assert (now.subject, now.body, now.updated_at) == kept
