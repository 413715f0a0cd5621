"""Writing spreadsheets: the one XLSX writer, for the exports of contributions and the
synthesis documents alike. (Reading an imported spreadsheet safely is ``sheets``.)

What a spreadsheet would read as a formula is never computed: a text cell is typed as text,
so "=…" is shown as written, and ``safe_cell`` prefixes such a value with an apostrophe where
the format has no types (CSV) or the text is quoted from people (OWASP's advice against CSV
injection).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# Characters an XLSX cell cannot hold (openpyxl refuses them); none is stored today, but
# rows written before the text rule may have some.
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show, never run."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def xlsx(sheets: Iterable[tuple[str, Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook of these sheets, each a title and its rows (an empty row leaves a blank
    line), written as the rows come (openpyxl's write-only mode: no table held whole)."""
    book = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet: Any, value: Any) -> WriteOnlyCell:
    if isinstance(value, str):
        value = _UNWRITABLE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even "=…"
    return cell
