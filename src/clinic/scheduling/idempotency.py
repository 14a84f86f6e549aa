"""Idempotency-Key for booking requests: a retried request gets the first answer, never a
second booking (docs/booking.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.scheduling.models import IdempotentRequest

KEY_MAX_LENGTH = 100
PENDING = 0


class IdempotencyProblem(ValueError):  # noqa: N818 - reads as the condition
    """The key cannot be used: malformed (400), reused for another request (422), or its
    first request is still running (409, retry)."""

    def __init__(self, message: str, *, status: int) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Outcome:
    """An answer to replay: status and JSON body."""

    status: int
    body: dict[str, Any]


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= KEY_MAX_LENGTH and key.isascii() and key.isprintable()


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request."""
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def _claim(*, user: User, key: str, request_fingerprint: str) -> int | None:
    """Insert the key as pending and return its row id; None if the key already exists (a
    first request still running holds the unique index until it commits). One statement and
    no savepoint: the insert cannot fail on a duplicate."""
    table = IdempotentRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, fingerprint, status_code, body, created_at) "  # noqa: S608 - the table name is the model's
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user.pk, key, request_fingerprint, PENDING, "{}", timezone.now()],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def run_once(
    *,
    user: User,
    key: str | None,
    request_fingerprint: str,
    handler: Callable[[], Outcome],
    replay: Callable[[Outcome], bool],
) -> Outcome:
    """Run ``handler`` once per (user, key); later calls with the same key get its outcome.

    ``replay(outcome)`` says whether an outcome may be stored for replay (a "busy, retry"
    answer is not, so the retry runs again). Without a key the handler simply runs.
    """
    if key is None:
        return handler()
    if not _valid_key(key):
        raise IdempotencyProblem(
            f"Idempotency-Key must be 1 to {KEY_MAX_LENGTH} printable ASCII characters.", status=400
        )
    # One transaction: the key, the booking and its answer commit together. A second request
    # with the same key waits on the key's unique index until the first commits.
    with transaction.atomic():
        record_id = _claim(user=user, key=key, request_fingerprint=request_fingerprint)
        if record_id is None:
            existing = IdempotentRequest.objects.get(user=user, key=key)
            if existing.fingerprint != request_fingerprint:
                raise IdempotencyProblem(
                    "This Idempotency-Key was already used for a different request.", status=422
                )
            if existing.status_code == PENDING:
                raise IdempotencyProblem(
                    "A request with this Idempotency-Key is still running.", status=409
                )
            return Outcome(existing.status_code, existing.body)
        outcome = handler()
        if replay(outcome):
            IdempotentRequest.objects.filter(pk=record_id).update(
                status_code=outcome.status, body=outcome.body
            )
        else:
            IdempotentRequest.objects.filter(pk=record_id).delete()
    return outcome
