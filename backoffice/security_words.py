"""Flask-Security's words, as this site says them (« adresse électronique », not « email »).

Flask-Security translates its labels, buttons, messages and email subjects through its own
``flask_security`` catalogue (French is shipped). ``SECURITY_I18N_DOMAIN`` adds this site's
``messages`` catalogue after it (``config.py``): the French that ``messages.po`` gives one of
Flask-Security's message ids takes over. The ids are listed here, exactly as Flask-Security
writes them, so that ``make messages`` keeps them in ``messages.po``
(``tests/web/test_security_pages.py`` checks that Flask-Security still uses each).
"""

from __future__ import annotations


def _(text: str) -> str:
    """A message id for the extraction (``-k _``); Flask-Security translates it."""
    return text


#: The subjects of Flask-Security's emails (``SECURITY_EMAIL_SUBJECT_*``).
SUBJECTS = {
    "SECURITY_EMAIL_SUBJECT_REGISTER": _("Confirm your address to open your espace citoyen"),
    "SECURITY_EMAIL_SUBJECT_CONFIRM": _("Confirm your address to open your espace citoyen"),
    "SECURITY_EMAIL_SUBJECT_PASSWORD_RESET": _("Choose a new password"),
    "SECURITY_EMAIL_SUBJECT_PASSWORD_NOTICE": _("Your password was changed"),
    "SECURITY_EMAIL_SUBJECT_PASSWORD_CHANGE_NOTICE": _("Your password was changed"),
}

#: Labels, buttons and titles of the forms.
LABELS = (
    _("Email Address"),
    _("Password"),
    _("Remember Me"),
    _("Retype Password"),
    _("New Password"),
    _("Change Password"),
    _("Recover Password"),
    _("Reset Password"),
    _("Resend Confirmation Instructions"),
    _("Send password reset instructions"),
    _("Reset password"),
    _("Resend confirmation instructions"),
    _("Forgot password?"),
)

#: Messages (``SECURITY_MSG_*``) a citizen may read.
MESSAGES = (
    _("You must sign in to view this resource."),
    _("You do not have permission to view this resource."),
    _(
        "Thank you. To confirm your email address %(email)s, please click on the link in the "
        "email we have just sent to you."
    ),
    _("Thank you. Your email has been confirmed."),
    _("Your email has already been confirmed."),
    _("Invalid confirmation token."),
    _("%(email)s is already associated with an account."),
    _("Password does not match"),
    _("Passwords do not match"),
    _("Instructions to reset your password have been sent to %(email)s."),
    _("You did not reset your password within %(within)s. "),
    _("Invalid reset password token."),
    _("Email requires confirmation."),
    _("Confirmation instructions have been sent to %(email)s."),
    _("You did not confirm your email within %(within)s. "),
    _("Account is disabled."),
    _("Email not provided"),
    _("Invalid email address"),
    _("Password not provided"),
    _("Password must be at least %(length)s characters"),
    _("Password not complex enough"),
    _("Specified user does not exist"),
    _("Invalid password"),
    _("You successfully reset your password and you have been logged in automatically."),
    _("You successfully reset your password. Please authenticate using your new password."),
    _("Your new password must be different than your previous password."),
    _("You successfully changed your password."),
    _("Please log in to access this page."),
    _("Please reauthenticate to access this page."),
    _("Authentication failed - identity or password/passcode invalid"),
    _(
        "If that email address is in our system, you will receive an email describing how to "
        "reset your password."
    ),
)
