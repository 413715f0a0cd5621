"""Importing contributions from spreadsheets (CSV, XLSX) and Decidim open-data exports.

Reading and checking come first and write nothing (``preview``); then ``apply`` writes what
the preview accepted, in batches. Every row carries its identity in its source (a hash of a
spreadsheet row, a Decidim id), so importing the same file twice adds nothing, and a bad row
is refused with its line number and a French reason without losing the good ones. Rows are
checked with the same helpers as ``contributions.contribute`` (text, kind, channel, commune,
author) and inserted in bulk, which is what makes a 100,000-row file take seconds.
"""

from .reading import BATCH, FORMATS, HEADERS, guess_format
from .record import (
    PREVIEW_LOST,
    failure,
    forget_files_of,
    lost_previews,
    preview_import,
    queue_import,
    run_import,
    start_import,
    sweep_imports,
)
from .rows import Importer

__all__ = [
    "BATCH",
    "FORMATS",
    "HEADERS",
    "Importer",
    "PREVIEW_LOST",
    "failure",
    "forget_files_of",
    "guess_format",
    "lost_previews",
    "preview_import",
    "queue_import",
    "run_import",
    "start_import",
    "sweep_imports",
]
