"""The synthesis's pictures as SVG that reads well on screen and in print: horizontal bars
(per item, per channel), a timeline of the contributions per day, and a map of participation
per canton of Haute-Garonne (the cantons' outlines: workflows/data/territory/)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from functools import cache
from importlib import resources
from math import cos, radians
from xml.sax.saxutils import escape, quoteattr

from ..territory import TOULOUSE_CANTON_CODE, canton_names

FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
INK, MUTED, BAR = "#1a1a1a", "#595959", "#1f4b85"
#: Sequential blues, light to dark (print-safe, readable in grey).
SHADES = ("#eef3fa", "#c6d7ee", "#8fb1dc", "#4f82c2", "#1f4b85")
WIDTH = 640


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 12,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}" {FONT}>{escape(text)}</text>'
    )


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    label = quoteattr(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={label}>'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _box(x: float, y: float, colour: str) -> str:
    return (
        f'<rect x="{x}" y="{y}" width="18" height="14" fill="{colour}" stroke="{MUTED}" '
        'stroke-width="0.6"/>'
    )


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bars(rows: Sequence[tuple[str, int]], title: str) -> str:
    """Horizontal bars, one per (label, value), largest scale first as given."""
    label_width, row, top = 280, 26, 34
    height = top + row * max(1, len(rows)) + 10
    most = max((v for _, v in rows), default=0) or 1
    span = WIDTH - label_width - 60
    body = [_text(0, 18, title, size=14, weight="bold")]
    for n, (label, value) in enumerate(rows):
        y = top + n * row
        length = span * value / most
        body.append(_text(label_width - 8, y + 16, _short(label), anchor="end"))
        body.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{max(length, 1):.1f}" height="{row - 8}" '
            f'fill="{BAR}"/>'
        )
        body.append(_text(label_width + length + 6, y + 16, f"{value:,}".replace(",", "\u202f")))
    return _svg(WIDTH, height, title, body)


def timeline(per_day: Sequence[dict], title: str, months: Sequence[str]) -> str:
    """Contributions per day, one bar a day from the first to the last; ``months`` are the
    month names (January first) for the axis."""
    height, left, bottom, top = 220, 40, 40, 34
    body = [_text(0, 18, title, size=14, weight="bold")]
    if not per_day:
        return _svg(WIDTH, height, title, body)
    days = {date.fromisoformat(row["date"]): row["contributions"] for row in per_day}
    first, last = min(days), max(days)
    count = (last - first).days + 1
    most = max(days.values()) or 1
    plot_w, plot_h = WIDTH - left - 10, height - top - bottom
    step = plot_w / count
    base = top + plot_h
    body.append(f'<line x1="{left}" y1="{base}" x2="{WIDTH - 10}" y2="{base}" stroke="{MUTED}"/>')
    body.append(_text(left - 6, top + 10, f"{most}", size=10, anchor="end", fill=MUTED))
    body.append(_text(left - 6, base, "0", size=10, anchor="end", fill=MUTED))
    for day, value in days.items():
        x = left + (day - first).days * step
        h = plot_h * value / most
        body.append(
            f'<rect x="{x:.2f}" y="{base - h:.2f}" width="{min(max(step * 0.85, 0.8), 24):.2f}" '
            f'height="{h:.2f}" fill="{BAR}"/>'
        )
    # Month ticks (or the first and last day for a short period).
    ticks = [first] if count < 45 else []
    if count >= 45:
        cursor = date(first.year, first.month, 1)
        while cursor <= last:
            if cursor >= first:
                ticks.append(cursor)
            cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    elif last != first:
        ticks.append(last)
    for tick in ticks:
        x = left + (tick - first).days * step
        label = f"{tick.day} {months[tick.month - 1]}" if count < 45 else months[tick.month - 1]
        body.append(
            f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="{MUTED}"/>'
        )
        body.append(_text(x, base + 18, f"{label} {tick.year}", size=10, fill=MUTED))
    return _svg(WIDTH, height, title, body)


@cache
def _cantons() -> list[dict]:
    text = (
        resources.files("workflows")
        .joinpath("data/territory/cantons-31-haute-garonne.geojson")
        .read_text("utf-8")
    )
    return json.loads(text)["features"]


def _code(feature: dict) -> str:
    """The geometry's INSEE canton code (31001) as the app's (3101)."""
    code = feature["properties"]["code"]
    return code[:2] + code[3:]


def canton_map(
    per_canton: Sequence[dict],
    title: str,
    legend: str,
    *,
    key: str = "contributions",
    number: Callable[[float], str] | None = None,
    toulouse: float | None = None,
) -> str:
    """Participation per canton: the cantons of Toulouse drawn as one area (a contribution
    from Toulouse is known by its commune, not its canton). ``key``: the rows' value drawn
    (a count; or a rate, such as participants per 1,000 inhabitants, written by ``number``
    in the legend and the areas' titles). ``toulouse``: the value of that area (by default
    the sum of the rows of Toulouse and of the Toulouse-N cantons: right for counts; a
    rate's caller gives it)."""
    counts = {row["code"]: row[key] for row in per_canton if row["code"]}
    if toulouse is None:
        toulouse = counts.get(TOULOUSE_CANTON_CODE, 0) + sum(
            v for k, v in counts.items() if k != TOULOUSE_CANTON_CODE and "Toulouse" in _name(k)
        )
    features = _cantons()
    points = [p for f in features for ring in f["geometry"]["coordinates"] for p in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = cos(radians((south + north) / 2))
    map_w, top = 420, 34
    scale = map_w / ((east - west) * squeeze)
    map_h = (north - south) * scale
    height = int(top + map_h + 20)

    def xy(lon: float, lat: float) -> str:
        return f"{(lon - west) * squeeze * scale:.1f},{top + (north - lat) * scale:.1f}"

    def value(feature: dict) -> float:
        return (
            toulouse
            if feature["properties"]["nom"].startswith("Toulouse")
            else counts.get(_code(feature), 0)
        )

    write: Callable[[float], str] = number or str
    if number is None:
        most: float = max([value(f) for f in features] + [1])
        # Upper limits of the classes, strictly increasing (few contributions: fewer classes).
        limits: list[float] = sorted(
            {max(1, round(most * (n + 1) / len(SHADES))) for n in range(len(SHADES))}
        )
    else:
        most = max([value(f) for f in features]) or 1.0
        limits = sorted({most * (n + 1) / len(SHADES) for n in range(len(SHADES))})
    shades = SHADES[len(SHADES) - len(limits) :]

    def shade(v: float) -> str:
        if v == 0:
            return "#ffffff"
        return next((shades[n] for n, limit in enumerate(limits) if v <= limit), shades[-1])

    body = [_text(0, 18, title, size=14, weight="bold")]
    for feature in features:
        rings = feature["geometry"]["coordinates"]
        path = " ".join("M" + " L".join(xy(*p) for p in ring) + "Z" for ring in rings)
        name = feature["properties"]["nom"]
        body.append(
            f'<path d="{path}" fill="{shade(value(feature))}" stroke="{MUTED}" '
            f'stroke-width="0.6"><title>{escape(name)} : {write(value(feature))}</title></path>'
        )
    # Legend: the classes, then the Toulouse note.
    x0 = map_w + 30
    body.append(_text(x0, top + 10, legend, size=12, weight="bold"))
    low: float = 1 if number is None else 0
    for n, (colour, limit) in enumerate(zip(shades, limits, strict=True)):
        y = top + 24 + n * 22
        body.append(_box(x0, y, colour))
        if number is None:
            text = f"{low} – {limit}" if limit > low else f"{limit}"
            low = limit + 1
        else:  # a rate: each class up to its limit, above the one before (0 is its own box)
            text = f"≤ {write(limit)}"
        body.append(_text(x0 + 26, y + 12, text))
    y = top + 24 + len(shades) * 22
    body.append(_box(x0, y, "#ffffff"))
    body.append(_text(x0 + 26, y + 12, "0"))
    return _svg(WIDTH, max(height, y + 30), title, body)


def _name(code: str) -> str:
    return canton_names().get(code, "")
