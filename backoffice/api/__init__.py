"""The JSON API under ``/api/v1`` (flask-smorest), bearer-token authenticated."""

from __future__ import annotations

from flask import Flask

from . import (
    charter,
    consultation,
    demarches,
    evaluation,
    events,
    guide,
    label,
    mailings,
    methods,
    planning,
    report,
    survey,
    syntheses,
    training,
)
from .errors import Api


def init_app(app: Flask) -> Api:
    api = Api(app, spec_kwargs={"info": {"description": "Dialogue citoyen — API du back office"}})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    for blueprint in (
        demarches.blp,
        consultation.blp,
        events.blp,
        mailings.blp,
        charter.blp,
        syntheses.blp,
        methods.blp,
        planning.blp,
        training.blp,
        guide.blp,
        evaluation.blp,
        report.blp,
        label.blp,
        survey.blp,
    ):
        api.register_blueprint(blueprint)
    return api
