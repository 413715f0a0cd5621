"""Demonstration data for ``make run`` (development only): accounts and démarches at every
stage, made through the same domain functions as real use, so their timelines are real.

Facts come from the Haute-Garonne consultation on its draft Charte du dialogue citoyen
(2016, see shared/reference/consultation-page-2016.md); the sentences are ours.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import demarches as domain
from workflows import label, survey, training
from workflows.clock import PARIS, local_date
from workflows.contributions import contribute
from workflows.decisions import decide
from workflows.events import create_event, register
from workflows.items import add_item
from workflows.mailings import survey_mailing
from workflows.methods import planning
from workflows.models import Deadline, DeadlineStatus, Demarche, Method, StageTransition, User
from workflows.participants import participant_for_email, participant_for_user
from workflows.questions import answer
from workflows.syntheses import versions
from workflows.syntheses.build import build as build_synthesis
from workflows.syntheses.requests import trigger_of
from workflows.transitions import transition

from .auth import create_user

PASSWORD = "briques roses du capitole"

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
    ("citoyenne@demo.cd31.fr", "citizen", None, "Claire Citoyenne", ""),
)


def accounts_table(base_url: str = "http://127.0.0.1:5000") -> str:
    lines = [f"Demo accounts (password for all: {PASSWORD}):"]
    lines += [f"  {role:<10} {email:<24} {name}" for email, role, _, name, _ in ACCOUNTS]
    lines.append(
        f"Public site: {base_url}/  ·  back office: {base_url}/admin/  ·  "
        f"emails: {base_url}/admin/mail/"
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

    def plan(demarche_id: int, actor: User, days_ago: float, *slugs: str) -> None:
        """The methods planned (the restitution is added last); none if the toolbox is empty."""
        if session.scalar(select(Method.id).limit(1)) is not None:
            planning.plan(
                session, actor, session.get_one(Demarche, demarche_id), slugs, as_of=ago(days_ago)
            )

    def move(
        demarche_id: int, to: str, actor: User, days_ago: float, comment: str = ""
    ) -> StageTransition:
        return transition(
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
        expected_participants="1500",
    )
    plan(charter, mission, 60, "consultation-en-ligne", "atelier-citoyen", "rencontre-territoriale")
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
        as_of=ago(50),  # announced well before the charter's 15 days of public notice
    )
    charter_d = session.get_one(Demarche, charter)
    engagements = [
        (
            "Proximité : aller au-devant des habitants",
            "Le Département organise ses rencontres au plus près des habitants, dans chaque "
            "canton, et pas seulement à Toulouse.",
        ),
        (
            "Écoute : chaque contribution est lue",
            "Chaque avis déposé en ligne ou exprimé en atelier est lu et pris en compte dans la "
            "synthèse de la démarche.",
        ),
        (
            "Transparence : dire ce qui a été décidé, et pourquoi",
            "À la fin de chaque démarche, le Département publie la synthèse des contributions et "
            "explique ses décisions à chaque participant.",
        ),
        (
            "Respect et débat : des échanges ouverts et courtois",
            "Les échanges sont modérés pour que chacun puisse s'exprimer et être entendu.",
        ),
    ]
    charter_items = [
        add_item(session, mission, charter_d, title=title, text=text, as_of=ago(19))
        for title, text in engagements
    ]
    move(charter, "consultation", mission, 10)
    workshop = create_event(
        session,
        mission,
        charter_d,
        {
            "kind": "workshop",
            "title": "Atelier citoyen : la charte en débat",
            "starts_at": datetime.combine(today + timedelta(days=8), time(9, 30), tzinfo=PARIS),
            "ends_at": datetime.combine(today + timedelta(days=8), time(12, 30), tzinfo=PARIS),
            "place": "Hôtel du Département, 1 boulevard de la Marquette, Toulouse",
            "territory": "Haute-Garonne",
            "capacity": 30,
        },
        as_of=ago(9),
    )
    create_event(
        session,
        mission,
        charter_d,
        {
            "kind": "meeting",
            "title": "Rencontre territoriale du Comminges",
            "starts_at": datetime.combine(today + timedelta(days=15), time(18, 0), tzinfo=PARIS),
            "ends_at": datetime.combine(today + timedelta(days=15), time(20, 0), tzinfo=PARIS),
            "place": "Salle du Belvédère, Saint-Gaudens",
            "territory": "Saint-Gaudens",
            "capacity": 2,
        },
        as_of=ago(9),
    )
    citizen = users["citoyenne@demo.cd31.fr"]
    claire = participant_for_user(session, citizen, as_of=ago(9))
    claire.commune_insee = "31395"  # Muret
    said = [
        (
            0,
            "Merci de prévoir aussi des rencontres le soir : en journée, les actifs ne "
            "peuvent pas venir.",
            claire,
        ),
        (
            2,
            "Combien de temps après la fin d'une consultation recevrons-nous la réponse du "
            "Département ?",
            claire,
        ),
    ]
    asked = [
        contribute(
            session,
            charter_d,
            item_id=charter_items[index].id,
            body=text,
            kind="question" if text.endswith("?") else "comment",
            author=author,
            actor=citizen,
            as_of=ago(5),
        )
        for index, text, author in said
    ]
    # The mission answers the question (its deadline met on time, Claire emailed).
    answer(
        session,
        mission,
        asked[1],
        "La charte prévoit la publication de la synthèse dans le mois qui suit la clôture, "
        "puis la décision et le retour à chaque participant dans les deux mois.",
        as_of=ago(2),
    )
    contribute(
        session,
        charter_d,
        item_id=charter_items[0].id,
        body="Les comptes rendus des ateliers seront-ils publiés en ligne ?",
        kind="question",
        author=participant_for_email(
            session, "paul.garcia@exemple.fr", name="Paul Garcia", as_of=ago(1)
        ),
        actor=None,
        channel="workshop",
        as_of=ago(1),
    )
    paper = participant_for_email(
        session, "jean.dupont@exemple.fr", name="Jean Dupont", as_of=ago(4)
    )
    contribute(
        session,
        charter_d,
        item_id=charter_items[1].id,
        channel="mail",
        author=paper,
        actor=mission,
        as_of=ago(4),
        commune="Revel",
        body="Courrier reçu : je n'ai pas internet, merci de garder la possibilité "
        "d'écrire au Département.",
    )
    register(session, workshop.id, claire, as_of=ago(3))

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
        expected_participants="300",
        participation_ends_by=(today + timedelta(weeks=14)).isoformat(),
    )
    plan(mobility, routes, 4, "diagnostic-en-marchant", "atelier-citoyen", "comite-de-suivi")
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
        expected_participants="400",
    )
    plan(
        colleges,
        social,
        119,
        "questionnaire",
        "atelier-citoyen",
        "groupe-de-travail-co-construction",
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
    colleges_d = session.get_one(Demarche, colleges)
    for title in ("Des produits locaux à la cantine", "Moins de gaspillage", "Le temps du repas"):
        add_item(session, mission, colleges_d, title=title, as_of=ago(90))
    move(colleges, "consultation", mission, 80)
    colleges_items = colleges_d.items
    voices = [
        (
            "parent.eleve@exemple.fr",
            "Sophie Martin",
            0,
            "Des légumes des fermes du "
            "Lauragais plutôt que des conserves : les producteurs sont à 30 km.",
        ),
        (
            "delegue.college@exemple.fr",
            "Lucas Bernard",
            1,
            "On jette le pain parce qu'il est "
            "servi d'office : un panier en libre service suffirait.",
        ),
        (
            "cuisinier@exemple.fr",
            "Karim Haddad",
            2,
            "Vingt minutes pour déjeuner, file d'attente comprise, c'est trop court.",
        ),
        (
            "parent.eleve@exemple.fr",
            "Sophie Martin",
            2,
            "Décaler les horaires des classes permettrait deux services plus calmes.",
        ),
    ]
    for email, name, index, text in voices:
        contribute(
            session,
            colleges_d,
            item_id=colleges_items[index].id,
            body=text,
            channel="workshop",
            author=participant_for_email(session, email, name=name, as_of=ago(60)),
            actor=mission,
            as_of=ago(60),
            commune="Toulouse",
        )
    closed = move(colleges, "synthesis", mission, 39)
    _published_synthesis(
        session,
        colleges_d,
        closed,
        mission,
        "Dans les ateliers des collèges, élèves, parents et personnels ont demandé des produits "
        "locaux, moins de pain jeté et plus de temps pour déjeuner.",
        built=ago(38),
        published=ago(20),
    )
    # The department decided on every item: the mission can move the démarche to its
    # feedback (the guard of that stage is met).
    decide(
        session,
        social,
        colleges_items[0],
        outcome="retained",
        justification="50 % de produits locaux dans les menus à la rentrée prochaine.",
        as_of=ago(10),
    )
    decide(
        session,
        social,
        colleges_items[1],
        outcome="partly_retained",
        justification="Le pain en libre service dans dix collèges pilotes, puis partout si "
        "le gaspillage baisse.",
        as_of=ago(10),
    )
    decide(
        session,
        social,
        colleges_items[2],
        outcome="under_study",
        justification="Deux services décalés à l’essai dans trois collèges ; la durée du "
        "repas sera revue avec les équipes à la fin du trimestre.",
        as_of=ago(10),
    )
    # 6. The training of the operators: the roads' agent and the vice-president were trained
    # this year; the social department's agent was, four years ago (no longer counts), and
    # has signed up for the next session — so the dashboard shows a department with a
    # trained agent and one without, and the social department is nudged when it submits.
    training.create_session(
        session,
        mission,
        {
            "date": today - timedelta(days=1500),
            "theme": "Les bases de la participation citoyenne",
            "place": "Hôtel du Département, Toulouse",
            "format": "in_person",
            "attendees": [social.id],
        },
        as_of=ago(1500),
    )
    training.create_session(
        session,
        mission,
        {
            "date": today - timedelta(days=90),
            "theme": "Conduire une concertation, de la saisine au retour aux participants",
            "place": "Hôtel du Département, Toulouse",
            "format": "in_person",
            "attendees": [routes.id, elue.id],
            "notes": "Demi-journée ; support remis aux participants.",
        },
        as_of=ago(90),
    )
    training.create_session(
        session,
        mission,
        {
            "date": today + timedelta(days=24),
            "theme": "Écrire sa saisine et choisir ses méthodes",
            "place": "En ligne (visioconférence)",
            "format": "online",
            "attendees": [social.id, elu.id],
        },
        as_of=ago(5),
    )

    # 7. A closed démarche, judged: the whole path from the saisine to the closing, its
    # feedback delivered to every contributor who kept the consent, then the evaluation
    # frozen at the closing.
    _closed_demarche(session, routes, mission, elue, ago, plan, move)

    # The acknowledgements of receipt went out when each saisine was submitted (the demo
    # replays the past: without this they would be sent now, late).
    _acknowledged(session)
    return True


def _acknowledged(session: Session) -> None:
    """The acknowledgements of receipt due, recorded as sent the day the saisine came."""
    for deadline in session.scalars(
        select(Deadline).where(
            Deadline.rule_code == "acknowledge_saisine", Deadline.status == DeadlineStatus.PENDING
        )
    ):
        deadline.status, deadline.met_at = DeadlineStatus.MET, deadline.started_at


#: The people of the closed démarche: first names, and the communes they wrote from.
_CLOSED_VOICES = (
    ("Camille", "Carbonne"),
    ("Nadia", "Cazères"),
    ("Julien", "Muret"),
    ("Élise", "Saint-Gaudens"),
    ("Thomas", "Martres-Tolosane"),
    ("Inès", "Carbonne"),
    ("Paul", "Rieux-Volvestre"),
    ("Léa", "Muret"),
    ("Mehdi", "Cazères"),
    ("Sylvie", "Saint-Martory"),
    ("Antoine", "Toulouse"),
    ("Chloé", "Portet-sur-Garonne"),
    ("Hugo", "Noé"),
    ("Manon", "Longages"),
    ("Yanis", "Saint-Gaudens"),
    ("Brigitte", "Carbonne"),
    ("Louis", "Cazères"),
    ("Sarah", "Muret"),
)

_CLOSED_TEXTS = (
    (0, "Un revêtement roulant sur tout le tracé : le gravier, en poussette, est un calvaire."),
    (0, "Séparer les vélos des piétons sur les tronçons les plus fréquentés près de Muret."),
    (1, "Des bancs et des points d'eau tous les cinq kilomètres, et des toilettes aux haltes."),
    (1, "Une aire de pique-nique à l'écluse, à l'ombre : les familles s'y arrêtent déjà."),
    (2, "Relier les gares de Carbonne et de Cazères : le train et le vélo ensemble."),
    (2, "Un parking vélo sécurisé à chaque gare, sinon personne ne laissera son vélo."),
    (0, "Respecter les arbres de la berge : élargir le chemin sans abattre les platanes."),
    (1, "Un éclairage doux près des bourgs pour rentrer du travail l'hiver."),
    (2, "Une navette le dimanche pour remonter avec les vélos quand on est fatigué."),
)


class _PastSender:
    """The demo replays the past: its feedback went out weeks ago, each message recorded as
    the engine records it (composed, with its Message-ID), none sent to a mail server now."""

    def send(self, letter) -> str:
        return f"<demo-{abs(hash((letter.address, letter.subject)))}@dialogue-citoyen.demo>"


def _published_synthesis(
    session: Session,
    d: Demarche,
    entered: StageTransition,
    mission: User,
    introduction: str,
    *,
    built: datetime,
    published: datetime,
) -> None:
    """The synthesis that entering the stage (the transition ``entered``) asked for: built
    with its trigger (the workers' sweep finds it built and builds no other), introduced,
    validated and published."""
    synthesis = build_synthesis(session, d, actor=None, as_of=built, trigger=trigger_of(entered.id))
    versions.edit(session, mission, synthesis, introduction=introduction, as_of=published)
    versions.validate(session, mission, synthesis, as_of=published)
    versions.publish(session, mission, synthesis, as_of=published)


def _replay_mailing(session: Session, mailing_id: int, at: datetime) -> None:
    from contextlib import contextmanager

    from workflows import mailings

    from .outgoing import mailer

    @contextmanager
    def opener():
        yield _PastSender()

    mailings.start(session, mailing_id, as_of=at)
    more = True
    while more:
        _, more = mailings.deliver_chunk(
            session, mailing_id, opener, lambda m: mailer.composer(session, m), now=lambda: at
        )


def _closed_demarche(session: Session, routes, mission, elue, ago, plan, move) -> int:
    """Section 7 of the demo: a closed démarche with its record whole (see ``load``)."""
    from workflows.models import Mailing, MailingKind, SurveyInvitation

    today = local_date(ago(0))
    d = domain.create_draft(
        session,
        routes,
        {
            "title": "Voie verte du canal de Saint-Martory",
            "department": routes.department,
            "objectives": "Aménager les 70 km du chemin de halage en voie verte : revêtement, "
            "haltes, liaisons avec les gares et les bourgs.",
            "public": "Habitantes et habitants des communes riveraines, cyclistes du "
            "quotidien, familles, associations de randonnée.",
            "territory": "Haute-Garonne",
            "participation_level": "concertation",
            "elected_official": elue,
            "desired_calendar": "Concertation au printemps, décisions avant l'été, travaux "
            "l'année suivante.",
            "budget": "60000",
            "expected_participants": "300",
        },
        as_of=ago(320),
    )
    plan(d.id, routes, 319, "consultation-en-ligne", "diagnostic-en-marchant", "atelier-citoyen")
    move(d.id, "submitted", routes, 318)
    _acknowledged(session)
    move(d.id, "launch", mission, 310)
    domain.update_demarche(
        session,
        mission,
        d,
        {
            "presentation": "Ce qui peut encore changer : le revêtement, les haltes et les "
            "liaisons ; le tracé suit le canal. Le Département décide en juin et dira à chacun "
            "ce qu'est devenue sa contribution.",
            "consultation_opens": today - timedelta(days=290),
            "consultation_closes": today - timedelta(days=250),
        },
        as_of=ago(308),
    )
    items = [
        add_item(session, mission, d, title=title, as_of=ago(295))
        for title in ("Le revêtement et le partage", "Les haltes", "Les liaisons avec les gares")
    ]
    move(d.id, "consultation", mission, 290)
    for number, (first_name, commune) in enumerate(_CLOSED_VOICES):
        index, text = _CLOSED_TEXTS[number % len(_CLOSED_TEXTS)]
        person = participant_for_email(
            session,
            f"{slugify(first_name)}.{number}@exemple.fr",
            name=f"{first_name} {commune[0]}.",
            as_of=ago(280 - number),
        )
        contribute(
            session,
            d,
            item_id=items[index].id,
            body=text,
            channel="online",
            author=person,
            actor=None,
            as_of=ago(280 - number),
            commune=commune,
        )
    synthesis_move = move(d.id, "synthesis", mission, 249)
    _published_synthesis(
        session,
        d,
        synthesis_move,
        mission,
        "Les riverains demandent un revêtement roulant qui respecte les arbres, des haltes "
        "équipées et des liaisons sûres avec les gares.",
        built=ago(248),
        published=ago(240),
    )
    for item, outcome, why in (
        (items[0], "retained", "Enrobé clair sur tout le tracé, les platanes conservés."),
        (items[1], "partly_retained", "Une halte équipée tous les dix kilomètres."),
        (items[2], "retained", "Parkings vélo sécurisés aux gares de Carbonne et Cazères."),
    ):
        decide(session, routes, item, outcome=outcome, justification=why, as_of=ago(230))
    move(d.id, "feedback", mission, 225)
    mailing_id = session.scalar(
        select(Mailing.id).where(Mailing.demarche_id == d.id, Mailing.kind == MailingKind.FEEDBACK)
    )
    if mailing_id is not None:
        _replay_mailing(session, mailing_id, ago(225))
    # The feedback sent asked for the participants' survey: replayed too, 12 answers through
    # its links, 24 on paper at the closing workshop (the mission typed them).
    questionnaire = survey_mailing(session, d)
    if questionnaire is not None:
        _replay_mailing(session, questionnaire.id, ago(224))
        links = session.scalars(
            select(SurveyInvitation.nonce)
            .where(SurveyInvitation.demarche_id == d.id)
            .order_by(SurveyInvitation.id)
        ).all()
        for number, nonce in enumerate(links[:12]):
            survey.answer(session, nonce, _survey_answer(number))
        for number in range(12, 36):
            survey.add_paper_answer(session, mission, d, _survey_answer(number), as_of=ago(200))
    move(d.id, "closed", mission, 180)
    # The mission awards the level the rules propose, or ★ with its reason when they propose
    # none (e.g. a survey the demo could not replay).
    proposal = label.proposal_for(session, d, as_of=ago(170))
    label.award(
        session,
        d,
        proposal.level or "bronze",
        "" if proposal.level else "Démarche de démonstration.",
        mission,
        ago(170),
    )
    return d.id


def _survey_answer(number: int) -> dict[str, str]:
    """The demo's answers: mostly satisfied, some less — a plausible spread, not a perfect one."""
    scores = ("5", "4", "4", "3", "5", "4", "2", "4", "5")
    answer = {
        statement.code: scores[(number + index) % len(scores)]
        for index, statement in enumerate(survey.STATEMENTS)
    }
    answer["first_time"] = "yes" if number % 3 == 0 else "no"
    answer["age_band"] = ("under_25", "25_39", "40_59", "60_74", "75_plus")[number % 5]
    return answer
