"""No secret link reaches a log: the console handler redacts offer and feed tokens from the
paths Django logs for every 4xx."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings

from clinic.logging import RedactSecretPaths


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/appointments/offers/AbC-123_x/", "/appointments/offers/[token]/"),
        ("/appointments/feeds/AbC-123_x.ics", "/appointments/feeds/[token]"),
        ("/appointments/12/", "/appointments/12/"),
    ],
)
def test_request_log_lines_never_carry_a_token(path, logged):
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (path,), None
    )
    assert RedactSecretPaths().filter(record)
    assert record.getMessage() == f"Not Found: {logged}"


def test_the_console_handler_uses_the_filter():
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact_secret_paths"]
