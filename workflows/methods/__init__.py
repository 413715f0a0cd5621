"""The toolbox of participation methods (DESIGN §6): the catalogue the mission edits, read and
filtered the same way by the public pages, the back office and the API.

- ``fields``: what a method holds, validated (French messages per field);
- ``catalogue``: reading — one method, the methods passing filters;
- ``editing``: the mission's changes (audited), retiring, deleting one no démarche uses;
- ``shipped``: loading the catalogue file shipped with the project (idempotent);
- ``planning`` (above those): the methods a démarche plans, and those its events and
  channels used;
- ``suggestions`` (above ``catalogue``): the methods that fit a démarche, with their reasons.
"""

from .catalogue import (
    Filters,
    all_methods,
    costs,
    facts,
    fold,
    get_method,
    group_size,
    matches,
    parse_filters,
    search,
)
from .editing import create_method, delete_method, set_retired, update_method, uses
from .fields import COLUMNS, FORMATS, LEVELS, RECRUITMENTS, TEXTS, method_values
from .shipped import LoadReport, load_catalogue, shipped_methods

__all__ = [
    "COLUMNS",
    "FORMATS",
    "Filters",
    "LEVELS",
    "LoadReport",
    "RECRUITMENTS",
    "TEXTS",
    "all_methods",
    "costs",
    "facts",
    "create_method",
    "delete_method",
    "fold",
    "get_method",
    "group_size",
    "load_catalogue",
    "matches",
    "method_values",
    "parse_filters",
    "search",
    "set_retired",
    "shipped_methods",
    "update_method",
    "uses",
]
