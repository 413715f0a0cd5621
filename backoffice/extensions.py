"""Unbound extension objects; the factory binds them to an app (see ``create_app``)."""

from __future__ import annotations

from flask_babel import Babel
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from workflows.models import Base

from .mail import Mail

db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate(render_as_batch=True, compare_type=True)
mail = Mail()
babel = Babel()
csrf = CSRFProtect()
security = Security()
