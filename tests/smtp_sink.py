"""A scriptable SMTP server in its own process, for the mailing tests and the bench.

    python tests/smtp_sink.py --port 2525 --log received.jsonl [--script script.json]

Every accepted message is one JSON line in ``--log`` (recipient, Message-ID, subject, the
unsubscription headers, the text part), flushed at once so that another process can count
what arrived even after killing a sender. ``--script`` scripts the answers per recipient:

    {"refuse": {"gone@x.fr": "550 5.1.1 No such user"},
     "defer_once": {"busy@x.fr": "451 4.3.0 Try again later"},
     "delay": 0.0}

``refuse`` always answers its code at RCPT; ``defer_once`` answers it the first time only
(then accepts); ``delay`` waits that long (seconds) before accepting each message;
``"parse": false`` records only the recipient and the Message-ID (the bench's light sink).
``"defer_window": {"after": 60, "seconds": 3, "answer": "451 4.3.2 Try later"}``: once
``after`` messages were accepted, every RCPT is answered ``answer`` for ``seconds`` of the
sink's own clock (a relay refusing for a while), then accepted again; the window's opening
and closing (with the count of refusals) are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, log: Path, script: dict) -> None:
        self.out = log.open("a", encoding="utf-8")
        self.refuse = {k.lower(): v for k, v in script.get("refuse", {}).items()}
        self.defer_once = {k.lower(): v for k, v in script.get("defer_once", {}).items()}
        self.delay = float(script.get("delay", 0))
        self.parse = bool(script.get("parse", True))
        self.deferred: set[str] = set()
        self.lock = threading.Lock()
        self.window = script.get("defer_window")
        self.accepted = 0
        self.window_ends: float | None = None  # monotonic time the window closes
        self.refused_in_window = 0

    def _in_window(self) -> bool:
        if self.window is None:
            return False
        now = time.monotonic()
        if self.window_ends is None:
            if self.accepted < self.window["after"]:
                return False
            self.window_ends = now + float(self.window["seconds"])
            print(f"defer window opened after {self.accepted} messages", flush=True)
        if now < self.window_ends:
            self.refused_in_window += 1
            return True
        if self.refused_in_window >= 0:
            print(f"defer window closed after {self.refused_in_window} refusals", flush=True)
            self.refused_in_window = -1  # said once
        return False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        key = address.lower()
        if key in self.refuse:
            return self.refuse[key]
        with self.lock:
            if self._in_window():
                return self.window["answer"]
        with self.lock:
            if key in self.defer_once and key not in self.deferred:
                self.deferred.add(key)
                return self.defer_once[key]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.parse:  # the bench: the least work per message, the same record keys
            head = envelope.content[: envelope.content.find(b"\r\n\r\n")]
            start = head.find(b"Message-ID:")
            message_id = head[start + 11 : head.find(b"\r\n", start)].decode().strip()
            return self._write({"to": envelope.rcpt_tos, "message_id": message_id})
        message = message_from_bytes(envelope.content, policy=default_policy)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "to": envelope.rcpt_tos,
            "message_id": message["Message-ID"],
            "subject": str(message["Subject"]),
            "list_unsubscribe": message["List-Unsubscribe"],
            "list_unsubscribe_post": message["List-Unsubscribe-Post"],
            "has_html": message.get_body(preferencelist=("html",)) is not None,
            "text": body.get_content() if body else "",
        }
        return self._write(record)

    def _write(self, record: dict) -> str:
        with self.lock:
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.out.flush()
            self.accepted += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--script", type=Path)
    args = parser.parse_args()
    script = json.loads(args.script.read_text()) if args.script else {}
    controller = Controller(Handler(args.log, script), hostname=args.host, port=args.port)
    controller.start()
    print(f"smtp sink listening on {args.host}:{args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
