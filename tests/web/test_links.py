"""Links in what leaves the application come from ``BASE_URL``, with or without a request."""

from __future__ import annotations

from flask import has_request_context

from backoffice.outgoing import links


def test_links_need_no_request_and_follow_base_url(app, ctx, monkeypatch):
    assert not has_request_context()
    assert links.url("public.demarche", slug="voirie") == "http://dialogue.test/demarches/voirie"
    assert (
        links.url("demarche.details_view", id=3)
        == "http://dialogue.test/admin/demarche/details/?id=3"
    )
    assert links.url("public.demarche", slug="v", _anchor="synthese").endswith("/v#synthese")
    assert links.absolute("/inscriptions/x") == "http://dialogue.test/inscriptions/x"
    assert links.host() == "dialogue.test"
    # Served under a path, in https: every link keeps both.
    monkeypatch.setitem(app.config, "BASE_URL", "https://www.haute-garonne.fr/dialogue")
    assert (
        links.url("public.demarche", slug="voirie")
        == "https://www.haute-garonne.fr/dialogue/demarches/voirie"
    )
    assert links.absolute("a") == "https://www.haute-garonne.fr/dialogue/a"


def test_a_request_by_another_host_does_not_change_the_links(app):
    with app.test_request_context("/", base_url="http://10.0.0.7:8000"):
        assert (
            links.url("public.demarche", slug="voirie") == "http://dialogue.test/demarches/voirie"
        )


def test_a_link_built_once_for_a_mailing_is_the_link_url_builds(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://www.haute-garonne.fr/dialogue")
    unsubscribe = links.url_with("public.unsubscribe", "token")
    for token in ["eyJwIjoxMiwicyI6Im5ld3MifQ.Ab-_9", "a b/é?", "x.y", "0mark0", ""]:
        assert unsubscribe(token) == links.url("public.unsubscribe", token=token)
    # A value appearing elsewhere in the URL cannot be the placeholder's place.
    demarche = links.url_with("public.demarche", "slug")
    assert demarche("dialogue") == "https://www.haute-garonne.fr/dialogue/demarches/dialogue"
