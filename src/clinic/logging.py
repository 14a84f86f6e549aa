"""Log filters: no secret link reaches a log file."""

from __future__ import annotations

import logging
import re

# Waiting-list offers and calendar feeds carry a secret token in their path.
SECRET_PATHS = re.compile(r"(/appointments/(?:offers|feeds)/)[^/\s]+")


class RedactSecretPaths(logging.Filter):
    """Replaces the token in offer and feed paths (Django logs the path of every 4xx)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                SECRET_PATHS.sub(r"\1[token]", arg) if isinstance(arg, str) else arg
                for arg in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        if isinstance(record.msg, str):
            record.msg = SECRET_PATHS.sub(r"\1[token]", record.msg)
        return True
