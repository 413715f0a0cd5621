"""The edges shared by every route: ids, pages, JSON bodies, and the messages that can reach
a user (marshmallow's, webargs', werkzeug's, Flask-Limiter's) all in French."""

from __future__ import annotations

import json
import re
from pathlib import Path

import marshmallow as ma
import pytest
from babel.support import Translations
from werkzeug.exceptions import default_exceptions

from backoffice import json_input
from backoffice.api import errors, schemas
from backoffice.errors import DESCRIPTIONS
from backoffice.params import MAX_PAGE, IdConverter, page_number
from workflows.access import MAX_ID
from workflows.i18n import Msg

CATALOG = Path(__file__).resolve().parents[2] / "backoffice" / "translations"


@pytest.fixture(scope="module")
def french() -> Translations:
    return Translations.load(str(CATALOG), ["fr"])


def _french(french: Translations, message) -> str:
    if isinstance(message, Msg):
        return message.render(lambda text, **params: french.gettext(text) % params)
    return french.gettext(str(message))


def test_the_id_pattern_matches_exactly_the_row_ids():
    pattern = re.compile(IdConverter.regex)
    inside = [1, 9, 10, 99, 1_000_000_000, 2_000_000_000, 2_147_483_639, MAX_ID]
    outside = [0, MAX_ID + 1, 2_147_483_650, 2_147_484_000, 2_150_000_000, 3 * 10**9, 10**10]
    assert all(pattern.fullmatch(str(n)) for n in inside)
    assert not any(pattern.fullmatch(str(n)) for n in outside)
    assert not pattern.fullmatch("01") and not pattern.fullmatch("-1")
    for n in range(2_147_483_000, 2_147_484_000):
        assert bool(pattern.fullmatch(str(n))) == (n <= MAX_ID)


def test_pages_are_clamped():
    assert page_number("3") == 3
    assert page_number("-1") == 1 and page_number("abc") == 1 and page_number(None) == 1
    assert page_number(str(10**30)) == MAX_PAGE
    assert page_number("7", last=4) == 4 and page_number("7", first=0, last=0) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"a": "\\ud800"}', "a"),
        ('{"a": ["ok", {"b": "x\\udfff"}]}', "a"),
        ('{"\\ud800": 1}', None),
        ('{"a": "x\\u0000"}', "a"),
        ('["\\u0000"]', None),
    ],
)
def test_json_with_what_no_column_can_store_is_refused(body, field):
    with pytest.raises(json_input.UnreadableJSON) as refused:
        json_input.loads(body)
    assert refused.value.field == field


def test_json_depth_is_capped():
    json_input.loads("[" * json_input.MAX_DEPTH + "]" * json_input.MAX_DEPTH)
    for depth in (json_input.MAX_DEPTH + 1, 10**6):
        with pytest.raises(json_input.UnreadableJSON):
            json_input.loads("[" * depth + "]" * depth)
    assert json_input.loads('{"v": "V\\u00e9lo \\ud83d\\udeb2"}') == {"v": "Vélo 🚲"}
    assert isinstance(json_input.UnreadableJSON(Msg("x")), json.JSONDecodeError)


def _input_schemas():
    for value in vars(schemas).values():
        if (
            isinstance(value, type)
            and issubclass(value, schemas.StrictSchema)
            and value is not schemas.StrictSchema
        ):
            yield value


def _messages_of(field: ma.fields.Field):
    """What loading ``field`` can say: its error messages and its validators'."""
    context = {
        "obj_type": getattr(field, "OBJ_TYPE", ""),
        "awareness": getattr(field, "AWARENESS", ""),
    }
    for key, message in field.error_messages.items():
        if key == "format":  # serialization only
            continue
        if key == "invalid_awareness" and getattr(field, "default_timezone", None) is None:
            continue  # only an aware or naive date-time without a default zone says it
        yield message.format(**context) if isinstance(message, str) else message
    for validator in field.validators:
        if isinstance(validator, schemas.MaxLength):
            try:
                validator("x" * (validator.max + 1))
            except ma.ValidationError as exc:
                yield from exc.messages
        elif getattr(validator, "error", None):
            yield validator.error


def test_every_message_of_the_api_schemas_is_french(french):
    untranslated = set()
    for schema_class in _input_schemas():
        schema = schema_class()
        messages = list(schema.error_messages.values())
        for field in schema.fields.values():
            messages += list(_messages_of(field))
        for message in messages:
            if _french(french, message) == str(message):
                untranslated.add((schema_class.__name__, str(message)))
    assert not untranslated


def test_every_http_error_has_a_french_name_and_every_page_a_french_text(french):
    for code in default_exceptions:
        assert code in errors.STATUS_NAMES, code
        name = errors.STATUS_NAMES[code]._args[0]
        assert _french(french, name) != name, code
    for description in DESCRIPTIONS.values():
        assert _french(french, description._args[0]) != description._args[0]
    for message in errors.MARSHMALLOW_MESSAGES:
        assert _french(french, message._args[0]) != message._args[0]
