"""The JSON API under /api/v1/ (django-ninja); OpenAPI at /api/v1/openapi.json.

Every 4xx answers with one JSON shape: ``{"detail": ..., "errors": [{"parameter", "in",
"message"}]}``, so a client can show each problem beside the field it came from.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from clinic.api_types import PLAIN_TEXT_PATTERN, SLUG_PATTERN
from clinic.directory.api import router as directory_router
from clinic.directory.selectors import UnknownFilterValue
from clinic.records.access import AccessRefused
from clinic.records.api import PatientDetailsInvalid
from clinic.records.api import router as records_router
from clinic.records.api_support import ApiProblem
from clinic.records.document_api import router as document_router
from clinic.records.encounter_api import router as encounter_router
from clinic.records.findings_api import router as findings_router
from clinic.records.investigation_api import router as investigation_router
from clinic.records.letter_api import router as letter_router
from clinic.records.record_api import router as record_router
from clinic.records.services import PatientConflict
from clinic.scheduling.api import BookingProblem
from clinic.scheduling.api import router as scheduling_router
from clinic.treatment.api import router as treatment_router

api = NinjaAPI(
    title="Dystonia Clinic API",
    version="1",
    description=(
        "The public directory of the unit (sites, practitioners, services; no sign-in) and "
        "patient records (session sign-in; 401 when signed out, 403 without the right, 404 "
        "where even existence is not revealed). Errors answer 4xx with a JSON body listing "
        "each problem."
    ),
    urls_namespace="api-v1",
)
api.add_router("/", directory_router)
api.add_router("/", records_router)
api.add_router("/", scheduling_router)
api.add_router("/", encounter_router)
api.add_router("/", record_router)
api.add_router("/", findings_router)
api.add_router("/", document_router)
api.add_router("/", letter_router)
api.add_router("/", investigation_router)
api.add_router("/", treatment_router)


def _location(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str]:
    # ninja gives ("query", "filters", "site") or ("query", "site"): the last part names it.
    where = str(loc[0]) if loc else "request"
    parameter = str(loc[-1]) if len(loc) > 1 else where
    return where, parameter


# Plainer words than pydantic's for the patterns this API uses.
PATTERN_MESSAGES = {
    SLUG_PATTERN: "use an identifier of lower-case letters, digits and hyphens, "
    "such as 'the-lister-hospital'",
    PLAIN_TEXT_PATTERN: "control characters are not allowed",
}


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        return PATTERN_MESSAGES.get(pattern, str(error["msg"]))
    return str(error["msg"])


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """422 naming each bad parameter."""
    errors = []
    for error in exc.errors:
        where, parameter = _location(error.get("loc", ()))
        errors.append(
            {"parameter": parameter, "in": where, "message": f"{parameter}: {_message(error)}"}
        )
    return api.create_response(
        request, {"detail": "Invalid request parameters.", "errors": errors}, status=422
    )


@api.exception_handler(UnknownFilterValue)
def unknown_filter_value(request: HttpRequest, exc: UnknownFilterValue) -> HttpResponse:
    """422 when a filter names something that does not exist."""
    error = {"parameter": exc.field, "in": "query", "message": f"{exc.field}: {exc}"}
    return api.create_response(
        request, {"detail": "Invalid request parameters.", "errors": [error]}, status=422
    )


def _errors(
    request: HttpRequest, *, status: int, detail: str, field: str, message: str
) -> HttpResponse:
    error = {"parameter": field, "in": "body", "message": f"{field}: {message}"}
    return api.create_response(request, {"detail": detail, "errors": [error]}, status=status)


@api.exception_handler(PatientDetailsInvalid)
def patient_details_invalid(request: HttpRequest, exc: PatientDetailsInvalid) -> HttpResponse:
    """422 naming the field of a new patient that is invalid."""
    return _errors(
        request, status=422, detail="Invalid patient details.", field=exc.field, message=exc.message
    )


@api.exception_handler(PatientConflict)
def patient_conflict(request: HttpRequest, exc: PatientConflict) -> HttpResponse:
    """409 when a unique identifier is already taken."""
    return _errors(
        request,
        status=409,
        detail="Conflicts with an existing patient.",
        field=exc.field,
        message=exc.message,
    )


@api.exception_handler(BookingProblem)
def booking_problem(request: HttpRequest, exc: BookingProblem) -> HttpResponse:
    """422 naming the parameter a booking request got wrong."""
    return _errors(
        request, status=422, detail="Invalid booking request.", field=exc.field, message=exc.message
    )


@api.exception_handler(AccessRefused)
def access_refused(request: HttpRequest, exc: AccessRefused) -> HttpResponse:
    """403 for staff without the right; 404 where existence must not be revealed."""
    status = 403 if exc.reveal else 404
    detail = "You do not have access to this." if exc.reveal else "Not found."
    return api.create_response(request, {"detail": detail, "errors": []}, status=status)


@api.exception_handler(ApiProblem)
def api_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    """The clinical record's refusals (records/encounter_api.py maps the services')."""
    return api.create_response(request, exc.body(), status=exc.status)
