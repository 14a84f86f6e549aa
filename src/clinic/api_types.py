"""Parameter types shared by every API router, so each validates the same way."""

from typing import Annotated

from pydantic import Field

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Printable text only: no NUL or other control characters (PostgreSQL rejects NUL).
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"

Slug = Annotated[str, Field(min_length=1, max_length=80, pattern=SLUG_PATTERN)]
PlainText = Annotated[str, Field(pattern=PLAIN_TEXT_PATTERN)]
