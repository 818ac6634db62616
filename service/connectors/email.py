"""Email over SMTP: one message per call, with the server and credentials from the config.

``smtplib`` is enough here (one plain-text message per notification); its failures are
translated once into a :class:`~service.engine.ports.ConnectorError`: a refused or dropped
connection or a 4xx reply is retried, a 5xx reply (an address the server refuses) is not.
"""
from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

from ..config import Config
from ..engine.ports import ConnectorError

__all__ = ["send_email"]


def send_email(config: Config, *, to: str, subject: str, text: str,
               message_id: str | None = None) -> dict:
    """Send one message; answers ``{"to", "message_id"}`` or raises ``ConnectorError``."""
    if not config.smtp_host:
        raise ConnectorError("no SMTP server is configured (OMNIFLOW_SMTP_HOST)",
                             retryable=False)
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        # A stable id: a mail system that de-duplicates by Message-ID shows a re-send once.
        message["Message-ID"] = f"<{message_id}@omniflow>"
    message.set_content(text)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port,
                          timeout=config.smtp_timeout) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise ConnectorError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                             retryable=exc.smtp_code < 500) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise ConnectorError(f"SMTP refused {to}: {exc.recipients}", retryable=False) from exc
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise ConnectorError(f"SMTP: {type(exc).__name__}: {exc}") from exc
    return {"to": to, "message_id": message["Message-ID"]}
