"""What identifies a resident in the log-privacy tests (Telegram's and WhatsApp's), and the
log lines that carry any of it."""

import pytest

NAME = "Rosalba Quintero"
EMAIL = "rosalba.q@example.org"
PHONE = "3107654321"
PROBLEM = "El caño de la carrera 7 se desborda cuando llueve fuerte"
IDEA = "Limpiar el caño cada mes con la junta de acción comunal"
WA_ID = "573209998877"
SECRETS = (NAME, EMAIL, PHONE, PROBLEM, IDEA, WA_ID, "Rosalba", "carrera 7")


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The captured log lines that carry something personal."""
    lines = [caplog.handler.format(record) for record in caplog.records]
    return [line for line in lines if any(secret in line for secret in SECRETS)]
