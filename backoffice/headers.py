"""Security headers on every response, by Flask-Talisman.

- a Content-Security-Policy the pages satisfy: scripts only from this site (Flask-Admin's few
  inline scripts carry the request's nonce; ours live in ``backoffice/static``), no plugins,
  no framing by other sites, forms posted only here; inline ``style`` attributes are allowed
  (layout only, no script);
- ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: strict-origin-when-cross-origin``, a Permissions-Policy that turns off
  the devices the site never uses;
- HSTS when the request came over HTTPS (directly, or through the trusted proxy's
  ``X-Forwarded-Proto``, see ``PROXY_COUNT``).

HTTPS itself is the reverse proxy's job: Talisman does not redirect. The cookies' flags come
from the configuration (``config.configure``): ``Secure`` when ``BASE_URL`` is https.
"""

from __future__ import annotations

from flask import Flask, request

from .extensions import talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

PERMISSIONS = {
    "camera": "()",
    "microphone": "()",
    "geolocation": "()",
    "payment": "()",
    "usb": "()",
    "interest-cohort": "()",
}


def csp_nonce() -> str:
    """This request's nonce, for the inline scripts of Flask-Admin's templates."""
    return getattr(request, "csp_nonce", "")


def init_app(app: Flask) -> None:
    talisman.init_app(
        app,
        force_https=False,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS,
        strict_transport_security=True,
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
