"""WSGI entry point: ``gunicorn wsgi:app``, ``flask --app wsgi …``."""

import sys

from backoffice import create_app
from backoffice.config import ConfigError

try:
    app = create_app()
except ConfigError as refused:  # what to set, in French, without a traceback
    sys.exit(str(refused))
