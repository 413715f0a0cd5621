"""The signed tokens of the links already sent keep working: the salts and payloads of
``backoffice.tokens`` are those these links were made with."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask

from backoffice import tokens

# Made with SECRET_KEY "s3cret" by the code that signed the links before ``tokens`` existed.
FEEDBACK_OF_5 = "eyJwIjo1LCJzIjoiZmVlZGJhY2sifQ.znTwzUpTEFuBDIrV2PIqbeu3aqU"
TEST_NEWS = "eyJwIjpudWxsLCJzIjoibmV3cyJ9.p_8wSsWAJazvvKjF44u55gqjX7U"
REGISTRATION_7 = "Nw.WFh1b7dnosCColHjxNqZ5ObmLG0"


@pytest.fixture
def ctx():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s3cret"
    with app.app_context():
        yield


def test_the_tokens_are_made_as_before(ctx):
    assert tokens.unsubscribe_token(5, "feedback") == FEEDBACK_OF_5
    assert tokens.unsubscribe_token(None, "news") == TEST_NEWS
    assert tokens.registration_token(SimpleNamespace(id=7)) == REGISTRATION_7


def test_the_links_already_sent_still_read(ctx):
    assert tokens.read_unsubscribe_token(FEEDBACK_OF_5) == (5, "feedback")
    assert tokens.read_unsubscribe_token(TEST_NEWS) == (None, "news")
    assert tokens.unsign(tokens.REGISTRATION, REGISTRATION_7) == 7


def test_a_token_is_good_for_its_own_purpose_only(ctx):
    assert tokens.read_unsubscribe_token(REGISTRATION_7) is None
    assert tokens.unsign(tokens.REGISTRATION, FEEDBACK_OF_5) is None
    assert tokens.unsign(tokens.UNSUBSCRIBE, "not-a-token") is None
