"""Reading the file of an import safely, before anything interprets its rows.

- **Limits** (``FileLimits``): rows, the size of a CSV record or of a text, and for an XLSX
  workbook (a zip of XML parts) the number of parts, each part's and the total unzipped size
  and the compression ratio — checked on the sizes the zip declares, then again while
  decompressing every part with a byte cap (a zip may lie about its sizes), before openpyxl
  parses anything. XML declaring a DOCTYPE (entity expansion) is refused there too, and
  openpyxl parses through defusedxml.
- **Encodings** of a CSV: UTF-32 and UTF-16 by their byte-order mark (UTF-16 without one by
  the pattern of its NUL bytes), UTF-8 with or without its mark, else Windows-1252. A file
  that is none of them, or not text at all, gets one file-level message.

Every refusal here is an ``ImportFileError``: the whole file is refused, nothing is written.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from openpyxl import load_workbook

from .errors import DomainError, InvalidFields
from .i18n import N_, Msg

MiB = 1024 * 1024


class ImportFileError(InvalidFields):
    """The whole file is refused (one message, about the file)."""

    def __init__(self, message: Msg) -> None:
        super().__init__({"file": message})


@dataclass(frozen=True)
class FileLimits:
    """What an import file may hold. The defaults admit the 100,000-row reference files
    (a 49 MB CSV; an XLSX whose worksheet unzips to 81 MB, or 26 MB plus 52 MB of shared
    strings) with room to spare, and refuse a zip bomb before it inflates."""

    rows: int = 200_000
    #: One CSV record (a line, or several when a quoted text spans lines), or one XLSX text.
    text_bytes: int = 1 * MiB
    #: XLSX: parts in the zip, each part unzipped, all parts unzipped, and unzipped/zipped.
    parts: int = 1_000
    part_bytes: int = 256 * MiB
    total_bytes: int = 512 * MiB
    ratio: int = 100
    #: XLSX: entries of the shared-strings table, which openpyxl loads whole.
    shared_strings: int = 1_000_000

    SETTINGS = {
        "rows": "IMPORT_MAX_ROWS",
        "text_bytes": "IMPORT_MAX_TEXT_BYTES",
        "parts": "IMPORT_XLSX_MAX_PARTS",
        "part_bytes": "IMPORT_XLSX_MAX_PART_BYTES",
        "total_bytes": "IMPORT_XLSX_MAX_TOTAL_BYTES",
        "ratio": "IMPORT_XLSX_MAX_RATIO",
        "shared_strings": "IMPORT_XLSX_MAX_SHARED_STRINGS",
    }

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FileLimits:
        """The limits named in the application's settings (``IMPORT_MAX_ROWS`` …)."""
        given = {
            f.name: int(settings[cls.SETTINGS[f.name]])
            for f in fields(cls)
            if settings.get(cls.SETTINGS[f.name]) is not None
        }
        return cls(**given)


def _megabytes(size: int) -> str:
    return f"{size / MiB:,.0f}".replace(",", " ")


# -- what kind of file ------------------------------------------------------------------------

ZIP_MAGIC = b"PK\x03\x04"


def is_zip(raw: bytes) -> bool:
    return raw.startswith(ZIP_MAGIC)


# -- text encodings ---------------------------------------------------------------------------

# Longest first: UTF-32 LE's mark begins with UTF-16 LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def _nul_pattern(sample: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte-order mark, told by where the NUL bytes fall (text
    that is mostly Latin has a NUL in the high byte of each character)."""
    for width, codec_le, codec_be in ((4, "utf-32-le", "utf-32-be"), (2, "utf-16-le", "utf-16-be")):
        usable = sample[: len(sample) - len(sample) % width]
        units = len(usable) // width
        if units < 4:
            continue
        low = sum(1 for i in range(0, len(usable), width) if usable[i] == 0)
        high = sum(1 for i in range(width - 1, len(usable), width) if usable[i] == 0)
        if width == 4:
            middle = sum(
                1 for i in range(0, len(usable), width) if usable[i + 1] == 0 and usable[i + 2] == 0
            )
            if middle < 0.9 * units:
                continue
        if high >= 0.6 * units and low <= 0.1 * units:
            return codec_le
        if low >= 0.6 * units and high <= 0.1 * units:
            return codec_be
    return None


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a CSV and the name of its encoding; refuses what is not text."""
    if is_zip(raw):
        raise ImportFileError(
            N_("this file is a zip archive (an XLSX workbook?), not a CSV text file")
        )
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            return _strict(raw[len(bom) :], codec, name), name
    guessed = _nul_pattern(raw[:4096])
    if guessed is not None:
        name = "UTF-32" if "32" in guessed else "UTF-16"
        return _strict(raw, guessed, name), name
    if b"\x00" in raw:
        raise ImportFileError(
            N_("this is not a text file: save the spreadsheet as CSV (UTF-8) or XLSX")
        )
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            N_(
                "the file is neither UTF-8 nor Windows-1252 text (byte %(offset)s): "
                "save it as CSV UTF-8",
                offset=exc.start + 1,
            )
        ) from None
    return text, "Windows-1252"


def _strict(raw: bytes, codec: str, name: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            N_(
                "the file is announced as %(encoding)s but is not valid %(encoding)s "
                "(byte %(offset)s): save it again as CSV UTF-8",
                encoding=name,
                offset=exc.start + 1,
            )
        ) from None


# -- CSV --------------------------------------------------------------------------------------

# The csv module's own cap on one field; records are capped below by FileLimits.text_bytes.
csv.field_size_limit(max(csv.field_size_limit(), 16 * MiB))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class _Lines:
    """The lines of a text for csv.reader (ended by CR LF, LF or CR, kept as csv wants
    them), refusing a record longer than the limit — a quoted text may span lines: the count
    starts again when a record is complete — and more lines than the rows allow. Lines are
    cut from the text one at a time (``io.StringIO`` would hold four bytes a character)."""

    def __init__(self, text: str, limits: FileLimits) -> None:
        self._matches = _LINE.finditer(text)
        self.limit = limits.text_bytes
        self.most = 20 * limits.rows + 1000  # blank lines and texts on several lines
        self.taken = 0
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        match = next(self._matches)
        self.number += 1
        self.taken += match.end() - match.start()
        if self.taken > self.limit:
            raise ImportFileError(
                N_(
                    "line %(line)s is too long (more than %(max)s MB in one row): is it "
                    "really a CSV file?",
                    line=self.number,
                    max=_megabytes(self.limit),
                )
            )
        if self.number > self.most:
            raise ImportFileError(
                N_("the file has more than %(max)s lines: split it", max=self.most)
            )
        return match.group()


def csv_records(
    raw: bytes, limits: FileLimits
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header of a CSV and its records as (line number, {column: value})."""
    text, _ = decode(raw)
    first = text[: limits.text_bytes].split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    lines = _Lines(text, limits)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error:
        raise ImportFileError(N_("unreadable CSV near line %(line)s", line=1)) from None
    if not header or not any(h.strip() for h in header):
        raise ImportFileError(N_("the file is empty"))
    if len(header) > 1000:
        raise ImportFileError(N_("too many columns (%(count)s)", count=len(header)))
    header = [h.strip() for h in header]

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            # A record starts on the line after the previous one ended (a quoted field may
            # span several lines): that first line is the one people look for.
            line = reader.line_num + 1
            lines.taken = 0
            try:
                values = next(reader, None)
            except csv.Error:
                raise ImportFileError(
                    N_("unreadable CSV near line %(line)s", line=reader.line_num)
                ) from None
            if values is None:
                return
            if not any(values):
                continue
            yield line, dict(zip(header, values, strict=False))

    return header, records()


# -- XLSX -------------------------------------------------------------------------------------

_CHUNK = 1 * MiB
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY")
_COMMENT_OR_PI = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_OVERLAP = 64


def check_workbook(raw: bytes, limits: FileLimits) -> None:
    """Refuse an XLSX file whose parts would not fit the limits once unzipped — on the
    sizes it declares, then by decompressing each part with a byte cap, so that a zip lying
    about its sizes is caught too. Memory stays within a chunk or two; nothing is kept."""
    if raw.count(b"PK\x01\x02") > limits.parts:  # each part has one central-directory entry
        raise ImportFileError(
            N_("the workbook holds too many parts (at most %(max)s)", max=limits.parts)
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise ImportFileError(N_("the file is not an XLSX workbook")) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > limits.parts:
            raise ImportFileError(
                N_("the workbook holds too many parts (at most %(max)s)", max=limits.parts)
            )
        declared = 0
        for part in parts:
            _check_sizes(part.filename, part.file_size, part.compress_size, limits)
            declared += part.file_size
            if declared > limits.total_bytes:
                raise _too_big_total(limits)
            if part.flag_bits & 0x1:
                raise ImportFileError(N_("the workbook is encrypted: save it without a password"))
            if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ImportFileError(N_("the workbook is compressed in an unusual way"))
        total = 0
        for part in parts:
            total += _inflate(archive, part, limits, total)


def _check_sizes(name: str, size: int, packed: int, limits: FileLimits) -> None:
    if size > limits.part_bytes:
        raise ImportFileError(
            N_(
                "the workbook's part “%(part)s” unzips to more than %(max)s MB: refused "
                "(a compressed bomb?)",
                part=name[:80],
                max=_megabytes(limits.part_bytes),
            )
        )
    if size > MiB and size > limits.ratio * max(packed, 1):
        raise ImportFileError(
            N_(
                "the workbook's part “%(part)s” is compressed more than %(ratio)s times: "
                "refused (a compressed bomb?)",
                part=name[:80],
                ratio=limits.ratio,
            )
        )


def _too_big_total(limits: FileLimits) -> ImportFileError:
    return ImportFileError(
        N_(
            "the workbook unzips to more than %(max)s MB: refused (split it, or save it as CSV)",
            max=_megabytes(limits.total_bytes),
        )
    )


def _inflate(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: FileLimits, before: int
) -> int:
    """Decompress one part by chunks; returns its real size."""
    size = 0
    run = 0  # bytes since the last "<": a text (markup always has one)
    xml = part.filename.lower().endswith((".xml", ".rels", ".vml"))
    head = b""
    tail = b""
    strings = 0
    shared = None  # is this part a shared-strings table? known from its root element
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(min(_CHUNK, limits.text_bytes)):
                size += len(chunk)
                if before + size > limits.total_bytes:
                    raise _too_big_total(limits)
                _check_sizes(part.filename, size, part.compress_size, limits)
                if not xml:
                    continue
                buffer = tail + chunk
                if _DOCTYPE.search(buffer):
                    raise ImportFileError(
                        N_("the workbook declares XML entities (a DOCTYPE): refused")
                    )
                if shared is None and len(head) < 65536:
                    head += chunk[:65536]
                    root = _ROOT.search(_COMMENT_OR_PI.sub(b"", head))
                    if root:
                        shared = root.group(1) == b"sst"
                    elif len(head) >= 65536:
                        shared = False
                if shared:
                    # What the last chunk's tail held was counted with it.
                    found = _SHARED_STRING.findall(buffer)
                    strings += len(found) - len(_SHARED_STRING.findall(tail))
                    if strings > limits.shared_strings:
                        raise ImportFileError(
                            N_(
                                "the workbook holds more than %(max)s different texts",
                                max=limits.shared_strings,
                            )
                        )
                # A text runs from one "<" to the next (markup always has one). The chunks
                # are no longer than the limit, so only a run across chunks may pass it.
                first = chunk.find(b"<")
                if first < 0:
                    run += len(chunk)
                else:
                    run += first
                if run > limits.text_bytes:
                    raise ImportFileError(
                        N_(
                            "the workbook holds a text of more than %(max)s MB: refused",
                            max=_megabytes(limits.text_bytes),
                        )
                    )
                if first >= 0:
                    run = len(chunk) - chunk.rfind(b"<") - 1
                tail = buffer[-_OVERLAP:]
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - a wrong CRC (sizes that lie), zlib.error, EOFError …
        raise ImportFileError(N_("the workbook is damaged (its zip does not read)")) from None
    return size


def xlsx_records(
    raw: bytes, limits: FileLimits
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header of the first worksheet and its records, once the zip is checked."""
    check_workbook(raw, limits)
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken workbook
        raise ImportFileError(N_("the file is not an XLSX workbook")) from None
    if not header or all(h in (None, "") for h in header):
        workbook.close()
        raise ImportFileError(N_("the file is empty"))
    names = [str(h if h is not None else "").strip() for h in header]

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            most = 20 * limits.rows + 1000  # blank rows too (openpyxl fills the gaps)
            for number, values in enumerate(rows, start=2):
                if number > most:
                    raise ImportFileError(
                        N_("the file has more than %(max)s lines: split it", max=most)
                    )
                if values is None or all(v in (None, "") for v in values):
                    continue
                yield number, dict(zip(names, values, strict=False))
        except DomainError:
            raise
        except Exception:  # noqa: BLE001 - a part that parses badly further down
            raise ImportFileError(N_("the workbook is damaged (its sheet does not read)")) from None
        finally:
            workbook.close()

    return names, records()
