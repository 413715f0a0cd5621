"""Demonstration data for ``make run`` (development only): accounts and démarches at every
stage, made through the same domain functions as real use, so their timelines are real.

Facts come from the Haute-Garonne consultation on its draft Charte du dialogue citoyen
(2016, see shared/reference/consultation-page-2016.md); the sentences are ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import demarches as domain
from workflows.clock import local_date
from workflows.models import Demarche, User
from workflows.transitions import transition

from .auth import create_user

PASSWORD = "dialogue-demo"

ACCOUNTS = (
    # email, role, department, name, position
    ("admin@demo.cd31.fr", "admin", None, "Alex Admin", ""),
    (
        "mission@demo.cd31.fr",
        "mission",
        "Mission démocratie participative",
        "Maïa Mission",
        "Chargée de mission démocratie participative",
    ),
    (
        "routes@demo.cd31.fr",
        "department",
        "Direction des routes",
        "Rémi Routes",
        "Chef de projet mobilités",
    ),
    (
        "social@demo.cd31.fr",
        "department",
        "Direction de l'action sociale",
        "Sonia Social",
        "Responsable insertion",
    ),
    (
        "elue@demo.cd31.fr",
        "elected",
        None,
        "Élise Élue",
        "Vice-présidente chargée de la démocratie participative",
    ),
    ("elu@demo.cd31.fr", "elected", None, "Étienne Élu", "Conseiller départemental de Revel"),
)


def accounts_table() -> str:
    lines = [f"Demo accounts (password for all: {PASSWORD}):"]
    lines += [f"  {role:<10} {email:<24} {name}" for email, role, _, name, _ in ACCOUNTS]
    lines.append(
        "Back office: http://127.0.0.1:5000/admin/  ·  emails: http://127.0.0.1:5000/admin/mail/"
    )
    return "\n".join(lines)


def load(session: Session, *, as_of: datetime) -> bool:
    """Create the demo data unless present; returns whether it created anything."""
    if session.scalar(select(User.id).where(User.email == ACCOUNTS[0][0])) is not None:
        return False
    users = {}
    for email, role, department, name, position in ACCOUNTS:
        users[email], _ = create_user(
            email, role, department=department, password=PASSWORD, name=name, position=position
        )
    mission, routes, social = (
        users[e] for e in ("mission@demo.cd31.fr", "routes@demo.cd31.fr", "social@demo.cd31.fr")
    )
    elue, elu = users["elue@demo.cd31.fr"], users["elu@demo.cd31.fr"]
    today = local_date(as_of)

    def ago(days: float) -> datetime:
        return as_of - timedelta(days=days)

    def saisine(actor: User, days_ago: float, **fields) -> int:
        d = domain.create_draft(session, actor, fields, as_of=ago(days_ago))
        return d.id

    def move(demarche_id: int, to: str, actor: User, days_ago: float, comment: str = "") -> None:
        transition(
            session,
            demarche_id,
            to,
            actor=actor,
            as_of=ago(days_ago),
            comment=comment,
            source="cli",
        )

    # 1. The charter itself, in consultation (the 2016 consultation, replayed today).
    charter = saisine(
        mission,
        60,
        title="Projet de Charte du dialogue citoyen",
        department=mission.department,
        objectives="Donner un cadre au dialogue citoyen : les engagements du Département "
        "envers les habitantes et les habitants, et la façon de les tenir.",
        public="Toutes les habitantes et tous les habitants de la Haute-Garonne, les associations, "
        "les agents et les élus du Département.",
        territory="Haute-Garonne",
        participation_level="consultation",
        elected_official=elue,
        desired_calendar="Consultation en ligne à l'automne, un atelier citoyen début décembre, "
        "adoption de la charte au printemps.",
        budget="45000",
    )
    move(charter, "submitted", mission, 59)
    move(charter, "launch", mission, 55, "Démarche portée par la mission elle-même.")
    domain.update_demarche(
        session,
        mission,
        session.get_one(Demarche, charter),
        {
            "presentation": "Le Département prépare sa Charte du dialogue citoyen. Vous avez "
            "votre mot à dire : commentez les engagements proposés, en ligne "
            "depuis votre espace citoyen ou lors de l'atelier citoyen.",
            "consultation_opens": today - timedelta(days=10),
            "consultation_closes": today + timedelta(days=25),
        },
        as_of=ago(20),
    )
    move(charter, "consultation", mission, 10)

    # 2. A saisine waiting for the mission's review.
    mobility = saisine(
        routes,
        12,
        title="Aménagement cyclable de la RD 820 à Portet-sur-Garonne",
        objectives="Choisir avec les riverains et les usagers le tracé et les aménagements "
        "d'une piste cyclable sécurisée.",
        public="Riverains, usagers du vélo, commerçants, écoles du secteur.",
        territory="Portet-sur-Garonne",
        participation_level="concertation",
        elected_official=elu,
        desired_calendar="Concertation au premier trimestre, travaux à l'été.",
        budget="1 200 000",
    )
    move(mobility, "submitted", routes, 3)

    # 3. A saisine returned to its department, with the mission's remarks.
    insertion = saisine(
        social,
        20,
        title="Programme départemental d'insertion : la parole des allocataires",
        objectives="Recueillir l'avis des allocataires du RSA sur l'accompagnement proposé.",
        public="Allocataires du RSA et leurs accompagnants.",
        territory="Haute-Garonne",
        participation_level="consultation",
        elected_official=elue,
        desired_calendar="Avant le vote du programme, en juin.",
    )
    move(insertion, "submitted", social, 15)
    move(
        insertion,
        "returned",
        mission,
        13,
        "Merci de préciser ce qui reste à décider et par qui, et de prévoir des rencontres "
        "territoriales hors de Toulouse (Saint-Gaudens, Revel).",
    )

    # 4. A draft being written.
    saisine(
        routes,
        1,
        title="Schéma des mobilités du Lauragais",
        objectives="Partager le diagnostic des déplacements et les pistes d'action.",
        territory="Revel",
    )

    # 5. A démarche in its synthesis stage, after a consultation that closed.
    colleges = saisine(
        social,
        120,
        title="Restauration scolaire dans les collèges",
        objectives="Associer élèves, parents et personnels aux choix de la restauration "
        "scolaire : produits locaux, gaspillage, temps du repas.",
        public="Collégiennes et collégiens, parents, personnels des collèges.",
        territory="Toulouse-3",
        participation_level="co-construction",
        elected_official=elu,
        desired_calendar="Ateliers au printemps, décisions avant la rentrée.",
        budget="30000",
    )
    move(colleges, "submitted", social, 118)
    move(colleges, "launch", mission, 110)
    domain.update_demarche(
        session,
        mission,
        session.get_one(Demarche, colleges),
        {
            "presentation": "Ce que vous mangez au collège : venez en parler et décider avec nous.",
            "consultation_opens": today - timedelta(days=80),
            "consultation_closes": today - timedelta(days=40),
        },
        as_of=ago(100),
    )
    move(colleges, "consultation", mission, 80)
    move(colleges, "synthesis", mission, 39)
    return True
