"""Workbooks made on the fly for the import tests: Excel-like ones (a shared-strings table,
as Excel and LibreOffice write them; openpyxl writes inline strings), and hostile ones —
zip bombs, zips that lie about their sizes, XML entities. Nothing is committed: a 1.2 GB
bomb is 1.2 MB made in a second."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = (
    XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    XML + f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
    f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    XML + f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
    '<sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    XML + f'<Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def _column(n: int) -> str:
    name = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


def sheet_and_strings(rows: Iterable[Sequence[object]]) -> tuple[str, str]:
    """A worksheet whose texts are in a shared-strings table (numbers stay numbers)."""
    index: dict[str, int] = {}
    strings: list[str] = []
    sheet = io.StringIO()
    sheet.write(XML + f'<worksheet xmlns="{MAIN}"><sheetData>')
    for r, row in enumerate(rows, start=1):
        sheet.write(f'<row r="{r}">')
        for c, value in enumerate(row):
            ref = f"{_column(c)}{r}"
            if value is None:
                continue
            if isinstance(value, int | float):
                sheet.write(f'<c r="{ref}"><v>{value}</v></c>')
                continue
            text = str(value)
            if text not in index:
                index[text] = len(strings)
                strings.append(text)
            sheet.write(f'<c r="{ref}" t="s"><v>{index[text]}</v></c>')
        sheet.write("</row>")
    sheet.write("</sheetData></worksheet>")
    table = io.StringIO()
    table.write(XML + f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">')
    for text in strings:
        table.write(f'<si><t xml:space="preserve">{escape(text)}</t></si>')
    table.write("</sst>")
    return sheet.getvalue(), table.getvalue()


def package(sheet: str | bytes, strings: str | bytes, *extra: Part) -> list[Part]:
    return [
        Part.deflated("[Content_Types].xml", CONTENT_TYPES),
        Part.deflated("_rels/.rels", ROOT_RELS),
        Part.deflated("xl/workbook.xml", WORKBOOK),
        Part.deflated("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        Part.deflated("xl/worksheets/sheet1.xml", sheet),
        strings if isinstance(strings, Part) else Part.deflated("xl/sharedStrings.xml", strings),
        *extra,
    ]


def excel_like(rows: Iterable[Sequence[object]]) -> bytes:
    """An XLSX file as Excel writes it: texts in the shared-strings table."""
    return zip_of(package(*sheet_and_strings(rows)))


# -- zips written by hand, so that they may lie --------------------------------------------


@dataclass
class Part:
    name: str
    data: bytes  # as stored in the zip (compressed when method is 8)
    crc: int
    size: int  # the real size, unzipped
    method: int = 8  # 8 deflated, 0 stored

    @classmethod
    def deflated(cls, name: str, content: str | bytes) -> Part:
        raw = content.encode() if isinstance(content, str) else content
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        return cls(name, packer.compress(raw) + packer.flush(), zlib.crc32(raw), len(raw))

    @classmethod
    def stored(cls, name: str, content: bytes) -> Part:
        return cls(name, content, zlib.crc32(content), len(content), method=0)


def zip_of(parts: Sequence[Part], declared: dict[str, int] | None = None) -> bytes:
    """A zip of ``parts``; ``declared`` makes some parts lie about their unzipped size (in
    both the local header and the central directory)."""
    declared = declared or {}
    out = io.BytesIO()
    central = []
    for part in parts:
        name = part.name.encode()
        size = declared.get(part.name, part.size)
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                part.method,
                0,
                0x21,
                part.crc,
                len(part.data),
                size,
                len(name),
                0,
            )
        )
        out.write(name)
        out.write(part.data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                part.method,
                0,
                0x21,
                part.crc,
                len(part.data),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    size = out.tell() - start
    count = len(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, start, 0))
    return out.getvalue()


def repeated(name: str, head: bytes, filler: bytes, total: int, tail: bytes) -> Part:
    """A deflated part of ``total`` bytes: ``head``, then ``filler`` over and over, then
    ``tail`` — compressed once per distinct block (a sync-flushed deflate stream repeats
    itself), so that gigabytes cost a second to make."""
    block = filler * max(1, (1024 * 1024) // len(filler))
    blocks, rest = divmod(total - len(head) - len(tail), len(block))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head + block) + packer.flush(zlib.Z_SYNC_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_SYNC_FLUSH)
    steady = packer.compress(block) + packer.flush(zlib.Z_SYNC_FLUSH)
    assert again == steady, "the deflate stream does not repeat"
    end = packer.compress(block[:rest] + tail) + packer.flush()
    data = first + steady * (blocks - 1) + end
    crc = zlib.crc32(head)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(block[:rest] + tail, crc)
    return Part(name, data, crc, len(head) + blocks * len(block) + rest + len(tail))


def shared_strings_bomb(size: int = 1_200_000_000, *, lie: bool = False) -> bytes:
    """A workbook whose shared-strings table (one text) inflates to ``size`` bytes from
    about ``size / 1000``. ``lie``: its headers say the table is 1 MB."""
    head = f'{XML}<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
    bomb = repeated("xl/sharedStrings.xml", head, b"A", size, b"</t></si></sst>")
    sheet, _ = sheet_and_strings([["item", "text"], [1, "x"]])
    parts = package(sheet, bomb)
    return zip_of(parts, {"xl/sharedStrings.xml": 1_000_000} if lie else None)


def billion_laughs() -> bytes:
    """A shared-strings table that expands one entity into 10⁹ copies of "lol"."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    )
    strings = (
        XML + f"<!DOCTYPE sst [{entities}]>"
        f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    sheet, _ = sheet_and_strings([["item", "text"], [1, "x"]])
    return zip_of(package(sheet, strings))
