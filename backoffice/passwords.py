"""The password policy of every account (citizens and staff), for Flask-Security and the CLI.

Length alone let « aaaaaaaaaa », « password12 » or one's own address through. A password is
refused when it is shorter than ``SECURITY_PASSWORD_LENGTH_MIN``, when it contains the
account's address or a part of its name, or when zxcvbn — a password-strength estimator that
knows common passwords, words, names, keyboard runs, repeats and dates, offline — scores it
under ``SECURITY_ZXCVBN_MINIMUM_SCORE`` (3 of 4) with the account's own data and the French
words people reach for first added to its dictionaries. The messages are French and say how
to do better.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import zxcvbn
from flask import current_app
from flask_babel import gettext
from flask_security import PasswordUtil

#: Words French users pick first (common-password lists, the site and its territory).
FRENCH_WORDS = (
    "azerty azertyuiop qwertz motdepasse motdepass mdp bonjour bonsoir salut coucou soleil "
    "jetaime amour bisous doudou chouchou loulou titou chocolat princesse bienvenue vacances "
    "liberte marseille paris lyon toulouse bordeaux nantes france occitanie capitole garonne "
    "hautegaronne haute-garonne departement conseil dialogue citoyen citoyenne citoyens "
    "participation concertation democratie mission demarche charte cd31 "
    "nicolas julien camille thomas olivier isabelle nathalie sylvie pierre marie"
).split()

#: Parts of an address or a name shorter than this may occur in a password.
MIN_PART = 4


def _parts(values: Iterable[Any]) -> set[str]:
    """The words of the account's address and name, lower case (« claire », « dubois » …)."""
    parts: set[str] = set()
    for value in values:
        if isinstance(value, str) and value:
            text = value.lower()
            parts.add(text)
            parts.update(p for p in re.split(r"[^\w]+|_", text) if len(p) >= MIN_PART)
    return parts


def problems(password: str, personal: Iterable[Any] = ()) -> list[str]:
    """Why ``password`` is refused beyond its length (empty: accepted)."""
    own = _parts(personal)
    lowered = password.lower()
    found: list[str] = []
    if any(len(part) >= MIN_PART and part in lowered for part in own):
        found.append(gettext("The password must not contain your email address or your name."))
    result = zxcvbn.zxcvbn(password[:100], user_inputs=[*own, *FRENCH_WORDS])
    if result["score"] < current_app.config["SECURITY_ZXCVBN_MINIMUM_SCORE"]:
        found.append(
            gettext(
                "This password is too easy to guess (a common word or password, a name, a "
                "date, a repeat or a keyboard run). A sentence of four or five words you "
                "will remember is both safer and easier."
            )
        )
    return found


class PasswordPolicy(PasswordUtil):
    """Flask-Security's validation (length, normalisation) followed by ``problems``."""

    def validate(self, password: str, is_register: bool, **kwargs: Any) -> tuple[list | None, str]:
        refused, normalized = super().validate(password, is_register, **kwargs)
        if refused:
            return refused, normalized
        personal: Iterable[Any]
        if is_register:
            personal = kwargs.values()
        else:
            user = kwargs.get("user")
            personal = (getattr(user, "email", None), getattr(user, "name", None))
        return problems(normalized, personal) or None, normalized
