"""The outgoing side, shared by the web and the workers: what leaves the application.

- ``mail``: SMTP (Flask-Mail with timeouts), building a message, rendering an email template;
- ``mailer``: the mailings' composition and SMTP sender, unsubscription tokens, the rate;
- ``notifications``: the outbox's rows made into emails (``send_notification``);
- ``security_mail``: Flask-Security's emails put into the outbox;
- ``syntheses``: a synthesis as people read it, and its documents (PDF, spreadsheet);
- ``links``: absolute links under ``BASE_URL``, the same in a request and in a worker (an app
  context is enough: no fake request context).

The workers reach into ``backoffice`` only for the app factory (and its extensions) and this.
"""
