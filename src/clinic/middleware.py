"""Refusing request bodies that are too large before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# Room for the form fields around the files.
FORM_OVERHEAD_BYTES = 1024 * 1024


def upload_body_limit() -> int:
    """The largest request body accepted: every allowed file at its largest, plus the form."""
    return (
        settings.ENQUIRY_UPLOAD_MAX_BYTES * settings.ENQUIRY_UPLOAD_MAX_FILES + FORM_OVERHEAD_BYTES
    )


class RequestSizeLimitMiddleware:
    """Answers 413 with a readable page when a request declares a body larger than any form
    accepts, so a 100 MB upload is refused before it is read (and before CSRF parses it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > upload_body_limit():
            each_mb = settings.ENQUIRY_UPLOAD_MAX_BYTES // (1024 * 1024)
            total_mb = settings.ENQUIRY_UPLOAD_MAX_TOTAL_BYTES // (1024 * 1024)
            context = {
                "title": "Too large to send",
                "status": 413,
                "message": (
                    f"What you tried to send is too large. Each file can be up to {each_mb} MB, "
                    f"and all files together up to {total_mb} MB."
                ),
                "clinic_name": settings.CLINIC_NAME,
            }
            return HttpResponse(render_to_string("error.html", context, request=None), status=413)
        return self.get_response(request)
