"""Enum bases shared by the models (and anything else that labels its members)."""

from __future__ import annotations

import enum

from .i18n import Msg


class Labelled(enum.StrEnum):
    """An enum whose members carry a translatable label (``LABELS`` on the class)."""

    @property
    def label(self) -> Msg:
        return type(self).LABELS()[self]  # type: ignore[attr-defined]
