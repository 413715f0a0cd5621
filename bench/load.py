"""Bench: the site under load, as deployed — gunicorn with 2 workers (the compose file's web
service on this 2-core machine), PostgreSQL and Redis — driven by wrk on loopback, closed loop
with 50 connections, each scenario for DURATION seconds:

- the public démarche page (the demo's consultation), and an item page holding 10,000
  published contributions (real texts of the reference data), read anonymously;
- the home page;
- posting comments as a signed-in citizen (each one commits, and moves the démarche's pages
  on: the pages read next are rendered again);
- the API lists (démarches; the contributions of the 10,000) with a mission token.

It prints requests/s and the p50/p95/p99 latencies of each, and two baselines measured in the
same run: the same pages with the public page cache off (``PUBLIC_CACHE_SECONDS=0``, as before
the cache), and a static file served by the same gunicorn (what the stack itself costs).

    make bench-load
    DURATION=30 BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/other make bench-load

``BENCH_DATABASE_URL`` defaults to ``postgresql://postgres@127.0.0.1:5432/bench_load`` (created
when missing, wiped); ``BENCH_REDIS_URL`` to ``redis://127.0.0.1:6379/15`` (emptied). Needs
wrk (Debian's package ``wrk``). Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path

from _setup import DATA, bench_app, ensure_database
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_load"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
DURATION = int(os.environ.get("DURATION", "10"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "50"))
WORKERS = int(os.environ.get("WORKERS", "2"))
CONTRIBUTIONS = 10_000
CITIZEN = ("bench-citoyen@exemple.fr", "un mot de passe pour la mesure")

# wrk's report, as one JSON line: requests, latency percentiles (µs), and errors (answers
# outside 2xx/3xx counted in ``errors.status``).
REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'REPORT {"requests": %d, "seconds": %f, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""

POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "%(cookie)s"
local n = 0
request = function()
  n = n + 1
  local body = "csrf_token=%(token)s&kind=comment&body=Avis+de+charge+" .. n
  return wrk.format(nil, nil, nil, body)
end
"""


def prepare() -> tuple[str, dict]:
    """The demo data plus 10,000 contributions on one item; the database's URL and a token."""
    from backoffice import demo
    from backoffice.api.auth import issue_token
    from backoffice.auth import create_user
    from backoffice.extensions import db
    from workflows.clock import utcnow
    from workflows.models import Contribution, Demarche, User
    from workflows.stages import Stage

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    os.environ["BENCH_DATABASE_URL"] = url
    app = bench_app("load")
    with app.app_context():
        now = utcnow()
        demo.load(db.session, as_of=now)
        d = db.session.scalar(
            select(Demarche).where(Demarche.stage == Stage.CONSULTATION).order_by(Demarche.id)
        )
        texts = [
            a["reponse"] for a in json.loads((DATA / "grand-debat-answers-2019.json").read_text())
        ]
        with (DATA / "feamp-consultation-proposals.csv").open(encoding="utf-8") as fh:
            texts += [r["body"] for r in csv.DictReader(fh)]
        texts = [t.strip()[:2000] for t in texts if t and t.strip()]
        item = d.items[-1]
        db.session.execute(
            insert(Contribution),
            [
                {
                    "demarche_id": d.id,
                    "item_id": item.id,
                    "kind": "comment",
                    "channel": "import",
                    "body": texts[n % len(texts)],
                    "status": "published",
                    "moderation_reason": "",
                    "contributed_at": now - timedelta(minutes=n + 60),
                    "created_at": now,
                    "source": f"bench-load:{n}",
                }
                for n in range(CONTRIBUTIONS)
            ],
        )
        create_user(CITIZEN[0], "citizen", password=CITIZEN[1], name="Citoyenne de charge")
        mission = db.session.scalar(select(User).where(User.email == "mission@demo.cd31.fr"))
        token = issue_token(mission, now)
        db.session.commit()
        slug, item_id, demarche_id = d.slug, item.id, d.id
        total = db.session.scalar(
            select(func.count()).select_from(Contribution).where(Contribution.item_id == item_id)
        )
        db.engine.dispose()
    facts = {
        "slug": slug,
        "item_id": item_id,
        "demarche_id": demarche_id,
        "token": token,
        "contributions": total,
    }
    return url, facts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn wsgi:app`` as the image runs it (production mode), on a free port."""

    def __init__(self, database_url: str, folder: Path, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DIALOGUE_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "SECURITY_PASSWORD_SALT": "bench",  # as the data were written (bench_app)
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "BASE_URL": self.base,
            "INSTANCE_PATH": str(folder),
            "OUTBOX_DISPATCH": "none",  # no worker in this bench: the outbox rows wait
            "PUBLIC_POST_LIMIT": "1000000 per minute",  # one address posts for 50 people
            **settings,
        }
        self.log = (folder / "gunicorn.log").open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--access-logfile",
                str(folder / "access.log"),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/static/backoffice.css", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not start: see {folder / 'gunicorn.log'}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(url: str, folder: Path, *, script: str = "", headers: dict | None = None) -> dict:
    path = folder / "report.lua"
    path.write_text(script + REPORT_LUA)
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "10s"]
    command += ["-s", str(path)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))
    report = json.loads(line.removeprefix("REPORT "))
    report["rps"] = report["requests"] / report["seconds"]
    return report


def signed_in(base: str) -> tuple[str, str]:
    """The session cookie of the bench's citizen, and the CSRF token of that session."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"email": CITIZEN[0], "password": CITIZEN[1], "csrf_token": token}
    opener.open(f"{base}/login", urllib.parse.urlencode(form).encode()).read()
    page = opener.open(f"{base}/espace/").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token


def row(label: str, r: dict, baseline: dict | None = None) -> str:
    ratio = f"{r['rps'] / baseline['rps']:6.1f}×" if baseline else ""
    return (
        f"{label:<44} {r['rps']:8.0f} req/s   p50 {r['p50'] / 1000:6.1f}   "
        f"p95 {r['p95'] / 1000:6.1f}   p99 {r['p99'] / 1000:6.1f} ms   "
        f"errors {r['errors']:<4} {ratio}"
    )


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    started = time.perf_counter()
    database_url, facts = prepare()
    print(
        f"data: the demo, and {facts['contributions']:,} contributions on one item "
        f"(built in {time.perf_counter() - started:.0f} s); gunicorn {WORKERS} workers, "
        f"wrk {CONNECTIONS} connections, {DURATION} s a scenario"
    )
    page = f"/demarches/{facts['slug']}"
    item = f"{page}/elements/{facts['item_id']}"
    api = {"Authorization": f"Bearer {facts['token']}"}
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    results: dict[str, dict] = {}

    web = Gunicorn(database_url, folder)
    try:
        results["static"] = wrk(f"{web.base}/static/backoffice.css", folder)
        results["demarche"] = wrk(f"{web.base}{page}", folder)
        results["item"] = wrk(f"{web.base}{item}", folder)
        results["home"] = wrk(f"{web.base}/", folder)
        results["api demarches"] = wrk(f"{web.base}/api/v1/demarches", folder, headers=api)
        results["api contributions"] = wrk(
            f"{web.base}/api/v1/demarches/{facts['demarche_id']}/contributions", folder, headers=api
        )
        cookie, token = signed_in(web.base)
        script = POST_LUA % {"cookie": cookie, "token": urllib.parse.quote(token)}
        results["post"] = wrk(f"{web.base}{item}/contribuer", folder, script=script)
    finally:
        web.stop()

    uncached = Gunicorn(database_url, folder, PUBLIC_CACHE_SECONDS="0")
    try:
        results["demarche uncached"] = wrk(f"{uncached.base}{page}", folder)
        results["item uncached"] = wrk(f"{uncached.base}{item}", folder)
        results["home uncached"] = wrk(f"{uncached.base}/", folder)
    finally:
        uncached.stop()

    print()
    print(row("static file (the stack alone)", results["static"]))
    print(row("démarche page, cache off (baseline)", results["demarche uncached"]))
    print(row("démarche page", results["demarche"], results["demarche uncached"]))
    print(row("item page (10,000 contributions), cache off", results["item uncached"]))
    print(row("item page (10,000 contributions)", results["item"], results["item uncached"]))
    print(row("home page, cache off", results["home uncached"]))
    print(row("home page", results["home"], results["home uncached"]))
    print(row("posting comments (signed in)", results["post"]))
    print(row("API: démarches", results["api demarches"]))
    print(row("API: contributions of the 10,000", results["api contributions"]))
    print()
    rate = results["demarche"]["rps"]
    print(
        f"démarche page: {rate / results['static']['rps']:.2f} of the static file's rate; "
        f"{rate / results['demarche uncached']['rps']:.1f}× the uncached rate"
    )
    print(f"bench done in {time.perf_counter() - started:.0f} s (logs in {folder})")


if __name__ == "__main__":
    main()
