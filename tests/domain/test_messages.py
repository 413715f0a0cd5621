from datetime import date

from workflows.i18n import N_


def test_messages_render_nested_messages_and_dates():
    stage = N_("Launch")
    message = N_("at %(stage)s until %(date)s", stage=stage, date=date(2026, 12, 1))
    french = {"Launch": "Lancement", "at %(stage)s until %(date)s": "à %(stage)s jusqu'au %(date)s"}

    def gettext(text, **params):
        return french[text] % params if params else french[text]

    assert message.render(gettext, lambda d: d.strftime("%d/%m/%Y")) == (
        "à Lancement jusqu'au 01/12/2026"
    )
    assert str(message) == "at Launch until 2026-12-01"
