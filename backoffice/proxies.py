"""The reverse proxy in front of the web (TLS, the real client's address).

``PROXY_COUNT`` says how many proxies to trust (0: none, the default). Behind one, the
client's address (rate limits, logs), the scheme (``Secure`` cookies, HSTS) and the host come
from its ``X-Forwarded-*`` headers; with none, those headers are ignored (a client could
forge them).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    count = app.config["PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )
