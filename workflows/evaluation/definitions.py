"""What each indicator of the evaluation is: its stable code, its dimension, its label and its
formula in words (docs/evaluation.md says the same, with the score buckets).

Codes are stable (the API, the frozen evaluations and the label's rules name them): a new
indicator gets a new code, an indicator is never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, Msg

#: The dimensions, in the order they are shown.
DIMENSION_LABELS: dict[str, Msg] = {
    "framing": N_("Framing"),
    "deadlines": N_("The charter's deadlines"),
    "feedback": N_("Feedback"),
    "influence": N_("Influence"),
    "transparency": N_("Transparency"),
    "mobilisation": N_("Mobilisation"),
    "experience": N_("Participants' experience"),
}


@dataclass(frozen=True)
class Definition:
    code: str
    dimension: str
    label: Msg
    formula: Msg


_ALL = (
    Definition(
        "framing_public_before_opening",
        "framing",
        N_("What a citizen needs, public before the opening"),
        N_(
            "elements public before the consultation opened ÷ 5 (objectives, what can still "
            "change, who decides, calendar, the charter's feedback commitment)"
        ),
    ),
    Definition(
        "deadlines_met_on_time",
        "deadlines",
        N_("Charter deadlines met on time"),
        N_("deadlines met on time ÷ deadlines due (waived ones aside)"),
    ),
    Definition(
        "deadlines_median_lateness_days",
        "deadlines",
        N_("Median lateness of the charter's deadlines"),
        N_(
            "median, over the deadlines due, of the days past their last day (0 when met on "
            "time; one still open counts until the date of the data)"
        ),
    ),
    Definition(
        "deadlines_worst_lateness_days",
        "deadlines",
        N_("Worst lateness of the charter's deadlines"),
        N_("the most days past its last day among the deadlines due"),
    ),
    Definition(
        "feedback_contributors_told",
        "feedback",
        N_("Contributors told what became of their contribution"),
        N_(
            "contributors sent the feedback message ÷ contributors (those who declined the "
            "feedback or erased their data aside)"
        ),
    ),
    Definition(
        "feedback_days_after_closing",
        "feedback",
        N_("Time from the closing to the feedback"),
        N_(
            "median, over the contributors told, of the days from the consultation's closing "
            "to their feedback message"
        ),
    ),
    Definition(
        "feedback_decisions_justified",
        "feedback",
        N_("Items with a justified decision"),
        N_("items whose decision carries a justification ÷ items put to consultation"),
    ),
    Definition(
        "influence_contributions_retained",
        "influence",
        N_("Contributions on items retained"),
        N_(
            "published contributions on items retained or partly retained ÷ published "
            "contributions on items decided"
        ),
    ),
    Definition(
        "transparency_questions_answered",
        "transparency",
        N_("Citizens' questions answered"),
        N_("published questions with an answer ÷ published questions"),
    ),
    Definition(
        "transparency_questions_answered_on_time",
        "transparency",
        N_("Questions answered on time"),
        N_("answers given within the charter's deadline ÷ answer deadlines due (waived aside)"),
    ),
    Definition(
        "mobilisation_per_1000",
        "mobilisation",
        N_("Participants per 1,000 inhabitants"),
        N_(
            "participants (people who contributed or attended an event) ÷ inhabitants of the "
            "démarche's territory × 1,000"
        ),
    ),
    Definition(
        "mobilisation_cantons_reached",
        "mobilisation",
        N_("Cantons reached"),
        N_("cantons of the territory with at least one participant ÷ cantons of the territory"),
    ),
    Definition(
        "mobilisation_canton_spread",
        "mobilisation",
        N_("Least to most mobilised canton"),
        N_(
            "participants per 1,000 inhabitants of the least mobilised canton of the territory "
            "÷ those of the most mobilised"
        ),
    ),
    Definition(
        "mobilisation_newcomers",
        "mobilisation",
        N_("Newcomers"),
        N_(
            "participants who took part in no other démarche in the 24 months before the "
            "opening ÷ participants"
        ),
    ),
    Definition(
        "mobilisation_channels",
        "mobilisation",
        N_("Channels of participation used"),
        N_("channels through which contributions came (online, workshop, meeting, mail, import)"),
    ),
    Definition(
        "mobilisation_methods",
        "mobilisation",
        N_("Methods used"),
        N_("distinct methods of the toolbox used by the events, the channels and the feedback"),
    ),
    Definition(
        "mobilisation_evenness",
        "mobilisation",
        N_("Evenness of the participation over the channels"),
        N_(
            "normalised Shannon evenness of the contributions over the k channels used: "
            "−Σ pᵢ ln pᵢ ÷ ln k (1: as many through each, 0: all through one)"
        ),
    ),
    Definition(
        "survey_sent",
        "experience",
        N_("Participants' survey sent"),
        N_(
            "1 when the participants' survey mailing was sent (after the feedback), else 0; "
            "counted: the invitations"
        ),
    ),
    Definition(
        "survey_response_rate",
        "experience",
        N_("Response rate of the survey"),
        N_("answers given through the invitations ÷ invitations sent"),
    ),
    Definition(
        "survey_satisfaction",
        "experience",
        N_("Participants satisfied overall"),
        N_(
            "answers « rather » or « strongly agree » with « Overall, I am satisfied with this "
            "démarche » ÷ answers to it (online and paper)"
        ),
    ),
    Definition(
        "survey_understood_outcome",
        "experience",
        N_("Participants who understood what became of their contribution"),
        N_(
            "answers « rather » or « strongly agree » with « I understood what became of my "
            "contribution » ÷ answers to it"
        ),
    ),
    Definition(
        "survey_would_return",
        "experience",
        N_("Participants who would take part again"),
        N_(
            "answers « rather » or « strongly agree » with « I would take part in such a "
            "démarche again » ÷ answers to it"
        ),
    ),
)

DEFINITIONS: dict[str, Definition] = {d.code: d for d in _ALL}
CODES: tuple[str, ...] = tuple(DEFINITIONS)
