"""Idempotency-Key for booking requests: a retried request gets the first answer, never a
second booking (docs/booking.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

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
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    user=user,
                    key=key,
                    fingerprint=request_fingerprint,
                    status_code=PENDING,
                    body={},
                )
        except IntegrityError:
            existing = IdempotentRequest.objects.get(user=user, key=key)
            if existing.fingerprint != request_fingerprint:
                raise IdempotencyProblem(
                    "This Idempotency-Key was already used for a different request.", status=422
                ) from None
            if existing.status_code == PENDING:
                raise IdempotencyProblem(
                    "A request with this Idempotency-Key is still running.", status=409
                ) from None
            return Outcome(existing.status_code, existing.body)
        outcome = handler()
        if replay(outcome):
            IdempotentRequest.objects.filter(pk=record.pk).update(
                status_code=outcome.status, body=outcome.body
            )
        else:
            record.delete()
    return outcome
