"""Database lock errors in the clinical record's writes. A deadlock PostgreSQL broke, or a
lock wait that ran out, means someone else is changing the same rows at that moment, not a
fault: the write's transaction is rolled back and the service refuses it as busy (409,
BUSY) like its other conflicts, so a page shows the message above the writer's kept entries
and the API answers it in its error shape rather than with a server error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from django.db import OperationalError

from clinic.scheduling.services import is_lock_error

BUSY = "Someone else is changing this record; try again in a moment."


class Refusal(Protocol):
    """A service's refusal class: HistoryRefused, LetterRefused, EncounterRefused..."""

    def __call__(self, message: str, *, status: int) -> Exception: ...


def lock_error(error: BaseException) -> bool:
    """A lock wait that ran out or a deadlock (PostgreSQL), not another database fault."""
    return isinstance(error, OperationalError) and is_lock_error(error)


@contextmanager
def busy_as(refused: Refusal) -> Iterator[None]:
    """Raise a lock error in the block as ``refused(BUSY, status=409)``. Wrap the block
    around the transaction, so it is rolled back first, and inside the service's refusal
    auditing, so the refusal is audited like the others."""
    try:
        yield
    except OperationalError as error:
        if not is_lock_error(error):
            raise
        raise refused(BUSY, status=409) from None
