"""Error pages in the site's own layout, so a visitor always has a way back."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _error_page(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    context = {"title": title, "message": message, "status": status}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: the request could not be understood."""
    return _error_page(
        request, status=400, title="Bad request", message="We could not understand that request."
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: signed in without the right to see this."""
    return _error_page(
        request, status=403, title="Not allowed", message="You do not have access to this page."
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: no such page."""
    return _error_page(
        request,
        status=404,
        title="Page not found",
        message="We could not find that page. It may have moved.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without context processors' database access failing again."""
    return _error_page(
        request,
        status=500,
        title="Something went wrong",
        message="Something went wrong on our side. Please try again later.",
    )
