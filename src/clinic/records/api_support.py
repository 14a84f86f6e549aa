"""What every clinical-record router of the JSON API shares: the services' refusals mapped
onto the one error shape, Idempotency-Key for creating POSTs, strict input types.

A handler parses, then calls one service or selector inside ``with answered():``, which turns
the services' refusals (already audited by them) into ``ApiProblem``; api.py renders that as
``{"detail", "errors": [{"parameter", "in", "message"}]}``. A POST that creates a row wraps its
work in ``idempotent(request, run)``. Used by records/encounter_api.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema
from pydantic import AwareDatetime, BeforeValidator, Strict

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts
from clinic.records import selectors as records_selectors
from clinic.records.access import AccessRefused
from clinic.records.encounters import EncounterNotFound, EncounterRefused
from clinic.records.locks import BUSY, lock_error
from clinic.records.merged import RecordMerged, merged_into
from clinic.scheduling.idempotency import IdempotencyProblem, Outcome, fingerprint, run_once
from clinic.scheduling.services import is_lock_error

# The largest id a BigAutoField holds: anything above names no row.
MAX_ID = 2**63 - 1

NOT_FOUND = "Not found."
NO_ACCESS = "You do not have access to this."
INVALID = "Invalid request parameters."
ISO_DATETIME = "use an ISO 8601 date and time with its offset, such as 2026-03-31T14:30:00+01:00"
# A service's field name as the API spells it, where the two differ.
FIELD_NAMES = {"site": "site_id", "appointment": "appointment_id"}
# Alert refusals that are conflicts with the record's state rather than bad input.
ALERT_CONFLICTS = frozenset({alerts.ALREADY_ACTIVE, alerts.ALREADY_ENDED})


class ApiProblem(Exception):  # noqa: N818 - reads as the answer
    """An answer other than success: ``status`` and the API's error body; ``errors`` as
    (parameter, where, message) triples, ``extra`` as top-level keys (such as updated_at)."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[tuple[str, str, str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.extra = dict(extra or {})
        super().__init__(detail)

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"detail", "errors": [{"parameter", "in", "message"}], ...}``."""
        errors = [
            {"parameter": parameter, "in": where, "message": f"{parameter}: {message}"}
            for parameter, where, message in self.errors
        ]
        return {"detail": self.detail, "errors": errors, **self.extra}


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, str]]


def problem_for(error: Exception, *, fields: Mapping[str, str] = FIELD_NAMES) -> ApiProblem:
    """The API's answer to a service's refusal. AccessRefused: 403 for staff, 404 where even
    existence is hidden; not found: 404; otherwise any refusal with ``message``, ``field``
    and ``status`` (the services' pattern: 400 bad input, answered 422 here; 403; 409). A
    refusal because the record was merged (records/merged.py) names the record kept in a
    top-level ``merged_into``: its id."""
    if isinstance(error, AccessRefused):
        return ApiProblem(403, NO_ACCESS) if error.reveal else ApiProblem(404, NOT_FOUND)
    if isinstance(error, EncounterNotFound | records_selectors.PatientNotFound):
        return ApiProblem(404, NOT_FOUND)
    message = str(getattr(error, "message", error))
    field = str(getattr(error, "field", "") or "")
    status = int(getattr(error, "status", 400))
    if isinstance(error, alerts.AlertRefused) and message in ALERT_CONFLICTS:
        status = 409
    status = 422 if status == 400 else status
    errors = [(fields.get(field, field), "body", message)] if field else []
    kept = merged_into(error)
    return ApiProblem(status, message, errors, {"merged_into": kept} if kept else None)


ANSWERED: tuple[type[Exception], ...] = (
    AccessRefused,
    EncounterNotFound,
    records_selectors.PatientNotFound,
    EncounterRefused,
    alerts.AlertRefused,
    RecordMerged,
)


@contextmanager
def answered(*also: type[Exception], fields: Mapping[str, str] = FIELD_NAMES) -> Iterator[None]:
    """Raise the services' refusals in the block (those in ANSWERED, and ``also``, such as
    another service's XRefused with message/field/status) as ApiProblem; ``fields`` renames
    a service's field to the API's parameter. The services audited them already. A lock
    error a service did not refuse itself (records/locks.py) is busy too: 409, not 500."""
    try:
        yield
    except (*ANSWERED, *also) as error:
        raise problem_for(error, fields=fields) from None
    except OperationalError as error:
        if not lock_error(error):
            raise
        raise ApiProblem(409, BUSY) from None


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _retry_later(status: int, message: str, parameter: str, where: str) -> HttpResponse:
    problem = ApiProblem(status, message, [(parameter, where, message)])
    response = _json(problem.status, problem.body())
    if status == 409:
        response["Retry-After"] = "1"
    return response


def idempotent(request: HttpRequest, run: Callable[[], tuple[int, dict[str, Any]]]) -> HttpResponse:
    """Run a creating POST once per (user, Idempotency-Key header), through the booking
    API's key store: a retry gets the first answer, not a second row. ``run`` returns
    (status, JSON body) or raises ApiProblem; refusals are answered but not kept, so a
    corrected request can use the key again. Without the header ``run`` simply runs."""

    def handler() -> Outcome:
        try:
            status, body = run()
        except ApiProblem as problem:
            # Returned, not raised: the key's transaction then commits the refusal's audit.
            return Outcome(problem.status, problem.body())
        return Outcome(status, body)

    try:
        outcome = run_once(
            user=request.user,  # type: ignore[arg-type]
            key=request.headers.get("Idempotency-Key"),
            request_fingerprint=fingerprint(request.method or "", request.path, request.body),
            handler=handler,
            replay=lambda answer: answer.status < 400,
        )
    except IdempotencyProblem as problem:
        return _retry_later(problem.status, problem.message, "Idempotency-Key", "header")
    except OperationalError as error:
        # A lock wait on the key (PostgreSQL) that ran out: busy, not broken.
        if not is_lock_error(error):
            raise
        return _retry_later(409, BUSY, "Idempotency-Key", "header")
    return _json(outcome.status, outcome.body)


def api_context(request: HttpRequest) -> AuditContext:
    """The audit context of an API call (channel API)."""
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _iso_text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError(ISO_DATETIME)  # noqa: TRY004 - pydantic turns ValueError into a 422
    return value


# Strict input types: true/false only; ids as JSON integers, never strings or floats;
# date-times as ISO 8601 text with their offset, never numbers.
StrictBool = Annotated[bool, Strict()]
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
