"""Bench: import 100,000 contributions from a CSV built from the real texts of the reference
data (Grand Débat answers, FEAMP proposals, Decidim comments); rows/s and peak memory, and
the ratio to a plain bulk INSERT of the same rows in the same run. Then a démarche page with
10,000 published contributions, paginated.

    make bench-import                  # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench make bench-import

Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import csv
import io
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from _setup import DATA, bench_app, bench_people, consultation, median_time, timed
from sqlalchemy import insert, select

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
PAGE_CONTRIBUTIONS = 10_000


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_texts() -> list[str]:
    texts = [a["reponse"] for a in json.loads((DATA / "grand-debat-answers-2019.json").read_text())]
    with (DATA / "feamp-consultation-proposals.csv").open(encoding="utf-8") as fh:
        texts += [r["body"] for r in csv.DictReader(fh)]
    with (DATA / "decidim-comments-nancy-2019.csv").open(encoding="utf-8") as fh:
        texts += [r["body"] for r in csv.DictReader(fh, delimiter=";")]
    return [t for t in texts if t and t.strip()]


def build_csv(rows: int, items: list[str], communes: list[str]) -> bytes:
    rng = random.Random(31)
    texts = real_texts()
    channels = ["en ligne", "atelier", "réunion", "courrier"]
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["item", "text", "date", "channel", "commune", "email", "name"])
    for n in range(rows):
        with_author = n % 5 == 0
        writer.writerow(
            [
                items[n % len(items)],
                f"{texts[n % len(texts)][:9000]} [{n}]",
                (start + timedelta(minutes=7 * n)).strftime("%d/%m/%Y %H:%M"),
                channels[n % len(channels)],
                rng.choice(communes),
                f"participant{n % 20_000}@exemple.fr" if with_author else "",
                f"Participant {n % 20_000}" if with_author else "",
            ]
        )
    return out.getvalue().encode()


def main() -> None:
    from backoffice.extensions import db
    from workflows import imports
    from workflows.clock import utcnow
    from workflows.models import Contribution, Demarche
    from workflows.territory import communes

    app = bench_app("import")
    figures: dict[str, float] = {}
    with app.app_context():
        now = utcnow()
        mission = bench_people()

        target = consultation(mission, "Import de 100 000 contributions")
        names = [c.name for c in communes()]
        raw = build_csv(ROWS, [i.title for i in target.items], names)
        print(f"CSV: {ROWS} rows, {len(raw) / 1e6:.1f} MB, from {len(real_texts())} real texts")

        rss_before = peak_rss_mb()
        with timed("preview", figures):
            importer = imports.Importer(db.session, target, "csv")
            preview = importer.preview(raw)
        with timed("import", figures):
            done = importer.apply(preview, actor=mission, as_of=now)
        rss_after = peak_rss_mb()
        assert done == ROWS, (done, len(preview.refused))
        whole = figures["preview"] + figures["import"]

        # Baseline: the same rows, already checked, in one bulk INSERT of plain dicts.
        baseline_d = consultation(mission, "Baseline")
        item_ids = [i.id for i in baseline_d.items]
        rows = [
            {
                "demarche_id": baseline_d.id,
                "item_id": item_ids[n % 5],
                "kind": "comment",
                "channel": "import",
                "body": row.values["body"],
                "status": "published",
                "moderation_reason": "",
                "contributed_at": row.values["contributed_at"] or now,
                "created_at": now,
                "source": row.source,
                "commune_insee": row.values["commune_insee"],
                "canton_code": row.values["canton_code"],
            }
            for n, row in enumerate(preview.rows)
        ]
        with timed("baseline", figures):
            for start in range(0, len(rows), imports.BATCH):
                db.session.execute(insert(Contribution), rows[start : start + imports.BATCH])
            db.session.commit()

        print(f"preview (read + check):   {figures['preview']:7.2f} s")
        print(f"import (write):           {figures['import']:7.2f} s")
        print(f"whole import:             {whole:7.2f} s  = {ROWS / whole:,.0f} rows/s")
        print(
            f"peak memory (RSS):        {rss_after:7.0f} MB, of which "
            f"{rss_after - rss_before:.0f} MB "
            f"for the import (the CSV itself: {len(raw) / 1e6:.0f} MB)"
        )
        print(
            f"baseline bulk INSERT:     {figures['baseline']:7.2f} s  = "
            f"{ROWS / figures['baseline']:,.0f} rows/s"
        )
        print(f"ratio import / baseline:  {whole / figures['baseline']:7.2f}")
        print(f"ratio write / baseline:   {figures['import'] / figures['baseline']:7.2f}")

        # A démarche page with 10,000 published contributions.
        page_d = consultation(mission, "Page de 10 000 contributions")
        item = page_d.items[0]
        db.session.execute(
            insert(Contribution),
            [
                {
                    "demarche_id": page_d.id,
                    "item_id": item.id,
                    "kind": "comment",
                    "channel": "import",
                    "body": rows[n % len(rows)]["body"],
                    "status": "published",
                    "moderation_reason": "",
                    "contributed_at": now - timedelta(minutes=n),
                    "created_at": now,
                    "source": f"page:{n}",
                }
                for n in range(PAGE_CONTRIBUTIONS)
            ],
        )
        db.session.commit()
        slug, item_id = page_d.slug, item.id
        assert db.session.scalar(select(Demarche.id).where(Demarche.slug == slug))

    client = app.test_client()
    for label, url in (
        ("démarche page", f"/demarches/{slug}"),
        ("item page 1", f"/demarches/{slug}/elements/{item_id}"),
        ("item page 250", f"/demarches/{slug}/elements/{item_id}?page=250"),
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        elapsed = median_time(lambda u=url: client.get(u))
        print(
            f"{label:<14} ({PAGE_CONTRIBUTIONS:,} contributions): {elapsed * 1000:6.1f} ms "
            f"(median of 7)"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"bench done in {time.perf_counter() - started:.0f} s")
