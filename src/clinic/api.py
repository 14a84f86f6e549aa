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

api = NinjaAPI(
    title="Dystonia Clinic API",
    version="1",
    description=(
        "Public directory of the unit (sites, practitioners, services). "
        "Errors answer 4xx with a JSON body listing each problem."
    ),
    urls_namespace="api-v1",
)
api.add_router("/", directory_router)


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
