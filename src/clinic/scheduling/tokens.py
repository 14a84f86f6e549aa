"""Secret tokens in links (waiting-list offers, calendar feeds): random, shown once, and
stored only as their SHA-256, so the database never holds a working link."""

from __future__ import annotations

import hashlib
import secrets

# secrets.token_urlsafe(32): 32 random bytes, 43 characters of the URL-safe alphabet.
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) stored in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()
