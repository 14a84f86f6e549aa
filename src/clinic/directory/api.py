"""Read-only public directory API: sites, practitioners, services."""

from datetime import time

from django.http import HttpRequest
from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from clinic.api_types import PlainText, Slug
from clinic.directory import selectors
from clinic.directory.models import Practitioner, Service, Site

router = Router(tags=["directory"])


class AddressOut(Schema):
    line: str
    city: str
    postcode: str


class OpeningHoursOut(Schema):
    weekday: str
    opens: time
    closes: time


class SiteOut(Schema):
    slug: str
    name: str
    is_specialist_unit: bool
    address: AddressOut
    telephone: str
    opening_hours: list[OpeningHoursOut]
    services: list[str]
    url: str
    is_example: bool


class ServiceOut(Schema):
    slug: str
    name: str
    summary: str
    sites: list[str]


class SpecialtyOut(Schema):
    slug: str
    name: str


class PractitionerOut(Schema):
    slug: str
    display_name: str
    prefix: str
    given_name: str
    family_name: str
    job_title: str
    specialty: SpecialtyOut
    sites: list[str]
    services: list[str]
    url: str
    is_example: bool


class SiteQuery(FilterSchema):
    service: Slug | None = Field(None, description="Only sites offering this service (slug).")


class ServiceQuery(FilterSchema):
    site: Slug | None = Field(None, description="Only services offered at this site (slug).")


class PractitionerQuery(FilterSchema):
    site: Slug | None = Field(None, description="Works at this site (slug).")
    specialty: Slug | None = Field(None, description="Of this specialty (slug).")
    service: Slug | None = Field(None, description="Provides this service (slug).")
    q: PlainText | None = Field(
        None,
        max_length=selectors.SEARCH_TEXT_MAX_LENGTH,
        description="Words matched against names, job titles, interests and specialty.",
    )


def _site_out(site: Site) -> SiteOut:
    return SiteOut(
        slug=site.slug,
        name=site.name,
        is_specialist_unit=site.is_specialist_unit,
        address=AddressOut(line=site.address_line, city=site.city, postcode=site.postcode),
        telephone=site.telephone,
        opening_hours=[
            OpeningHoursOut(weekday=h.get_weekday_display(), opens=h.opens, closes=h.closes)
            for h in site.opening_hours.all()
        ],
        services=[service.slug for service in site.services.all()],
        url=site.get_absolute_url(),
        is_example=site.is_example,
    )


def _practitioner_out(practitioner: Practitioner) -> PractitionerOut:
    return PractitionerOut(
        slug=practitioner.slug,
        display_name=practitioner.display_name,
        prefix=practitioner.prefix,
        given_name=practitioner.given_name,
        family_name=practitioner.family_name,
        job_title=practitioner.job_title,
        specialty=SpecialtyOut(slug=practitioner.specialty.slug, name=practitioner.specialty.name),
        sites=[site.slug for site in practitioner.sites.all()],
        services=[service.slug for service in practitioner.services.all()],
        url=practitioner.get_absolute_url(),
        is_example=practitioner.is_example,
    )


def _service_out(service: Service) -> ServiceOut:
    return ServiceOut(
        slug=service.slug,
        name=service.name,
        summary=service.summary,
        sites=[site.slug for site in service.sites.all()],
    )


@router.get("/sites", response=list[SiteOut], summary="List the unit's sites")
@paginate(LimitOffsetPagination)
def list_sites(request: HttpRequest, filters: Query[SiteQuery]) -> list[SiteOut]:
    service = selectors.service_by_slug(filters.service)
    return [_site_out(site) for site in selectors.sites_public(service=service)]


@router.get("/practitioners", response=list[PractitionerOut], summary="Find practitioners")
@paginate(LimitOffsetPagination)
def list_practitioners(
    request: HttpRequest, filters: Query[PractitionerQuery]
) -> list[PractitionerOut]:
    resolved = selectors.practitioner_filters_resolve(
        site=filters.site, specialty=filters.specialty, service=filters.service, text=filters.q
    )
    return [_practitioner_out(p) for p in selectors.practitioners_search(filters=resolved)]


@router.get("/services", response=list[ServiceOut], summary="List the services offered")
@paginate(LimitOffsetPagination)
def list_services(request: HttpRequest, filters: Query[ServiceQuery]) -> list[ServiceOut]:
    site = selectors.site_by_slug(filters.site)
    return [_service_out(service) for service in selectors.services_public(site=site)]
