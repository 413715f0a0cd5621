"""The synthesis's pictures are well-formed SVG that says what the figures say."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from workflows.syntheses import charts

NS = {"svg": "http://www.w3.org/2000/svg"}
MONTHS = "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split()


def texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_bars_escape_labels_and_show_values():
    svg = charts.bars([("Vélo <&> bus", 12), ("Train", 3)], "Par élément")
    root = ET.fromstring(svg)  # well-formed, the label escaped
    assert "Vélo <&> bus" in texts(svg) and "12" in texts(svg)
    widths = [float(r.get("width")) for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert widths[0] == 4 * widths[1]  # 12 against 3


def test_the_timeline_has_a_bar_per_day_and_month_ticks():
    days = [{"date": f"2026-{m:02d}-15", "contributions": m} for m in range(1, 7)]
    svg = charts.timeline(days, "Par jour", MONTHS)
    assert "févr. 2026" in texts(svg) and "juin 2026" in texts(svg)
    bars = [r for r in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}rect")]
    assert len(bars) == 6


def test_the_map_draws_every_canton_with_distinct_classes():
    svg = charts.canton_map(
        [{"code": "3109", "contributions": 2}, {"code": "3199", "contributions": 1}],
        "Par canton",
        "Contributions",
    )
    root = ET.fromstring(svg)
    paths = list(root.iter("{http://www.w3.org/2000/svg}path"))
    assert len(paths) == 27
    muret = next(p for p in paths if p.find("svg:title", NS).text.startswith("Muret"))
    toulouse = [p for p in paths if p.find("svg:title", NS).text.startswith("Toulouse")]
    assert len(toulouse) == 11 and all(p.get("fill") == toulouse[0].get("fill") for p in toulouse)
    assert muret.get("fill") != toulouse[0].get("fill") != "#ffffff"
    legend = [t for t in texts(svg) if t and t[0].isdigit()]
    assert legend == ["1", "2", "0"]  # two classes for two values, then none
