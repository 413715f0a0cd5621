"""Unbound extension objects; the factory binds them to an app (see ``create_app``)."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

from workflows.models import Base

from .outgoing.mail import Mail
from .outgoing.security_mail import OutboxMailUtil
from .passwords import PasswordPolicy

# `db.session` is a scoped_session: a proxy to the Session of the current app context.
# The domain's functions take that Session itself, `db.session()`.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate(render_as_batch=True, compare_type=True)
mail = Mail()
babel = Babel()
csrf = CSRFProtect()
# Flask-Security reads its mail class only here, not in init_app.
security = Security(mail_util_cls=OutboxMailUtil, password_util_cls=PasswordPolicy)
talisman = Talisman()
# Storage and limits come from the config (RATELIMIT_STORAGE_URI, PUBLIC_POST_LIMIT).
limiter = Limiter(key_func=get_remote_address)
