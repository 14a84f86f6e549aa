"""Public directory pages: sites, one site, find a doctor, one practitioner."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from clinic.directory import selectors
from clinic.directory.forms import FindDoctorForm
from clinic.directory.models import Practitioner, Site


@require_safe
def site_list(request: HttpRequest) -> HttpResponse:
    """All sites with addresses, telephone and opening hours."""
    return render(request, "directory/site_list.html", {"sites": selectors.sites_public()})


@require_safe
def site_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One site: address, hours, services and practitioners."""
    try:
        site = selectors.site_public(slug=slug)
    except Site.DoesNotExist:
        raise Http404("No such site") from None
    return render(request, "directory/site_detail.html", {"site": site})


@require_safe
def find_doctor(request: HttpRequest) -> HttpResponse:
    """Practitioners filtered by site, specialty, service and words."""
    form = FindDoctorForm(request.GET or None)
    practitioners = None
    if not form.is_bound:
        practitioners = selectors.practitioners_search(filters=selectors.PractitionerFilters())
    elif form.is_valid():
        practitioners = selectors.practitioners_search(filters=form.filters())
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "practitioners": practitioners}
    template = "directory/find_doctor.html"
    if request.headers.get("HX-Request") == "true":
        template = "directory/_practitioner_results.html"
    return render(request, template, context, status=status)


@require_safe
def practitioner_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One practitioner: role, specialty, sites and services."""
    try:
        practitioner = selectors.practitioner_public(slug=slug)
    except Practitioner.DoesNotExist:
        raise Http404("No such practitioner") from None
    return render(request, "directory/practitioner_detail.html", {"practitioner": practitioner})
