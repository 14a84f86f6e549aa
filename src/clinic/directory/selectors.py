"""Reads of the public directory, each with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Prefetch, Q, QuerySet

from clinic.directory.models import OpeningHours, Practitioner, Service, Site, Specialty

SEARCH_TEXT_MAX_LENGTH = 100
_Named = TypeVar("_Named", Site, Specialty, Service)


class UnknownFilterValue(ValueError):  # noqa: N818 - reads as the condition it names
    """A filter names a site, specialty or service that does not exist."""

    def __init__(self, *, field: str, value: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"No {field} has the identifier '{value}'.")


@dataclass(frozen=True)
class PractitionerFilters:
    """What find a doctor narrows by; ``None`` means any."""

    site: Site | None = None
    specialty: Specialty | None = None
    service: Service | None = None
    text: str = ""


def _public_practitioners() -> QuerySet[Practitioner]:
    return (
        Practitioner.objects.filter(is_active=True)
        .select_related("specialty")
        .prefetch_related(
            Prefetch("sites", queryset=Site.objects.only("slug", "name", "is_specialist_unit")),
            Prefetch("services", queryset=Service.objects.only("slug", "name", "display_order")),
        )
    )


def sites_public(*, service: Service | None = None) -> QuerySet[Site]:
    """Every site with its opening hours and services; optionally only those offering one."""
    sites = Site.objects.prefetch_related(
        Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens")),
        "services",
    )
    if service is not None:
        sites = sites.filter(services=service)
    return sites


def site_public(*, slug: str) -> Site:
    """One site with its hours, services and active practitioners; raises Site.DoesNotExist."""
    return (
        sites_public()
        .prefetch_related(
            Prefetch(
                "practitioners", queryset=_public_practitioners(), to_attr="active_practitioners"
            )
        )
        .get(slug=slug)
    )


def services_public(*, site: Site | None = None) -> QuerySet[Service]:
    """Every service with the sites offering it; optionally only those offered at one site."""
    services = Service.objects.prefetch_related(Prefetch("sites", queryset=Site.objects.all()))
    if site is not None:
        services = services.filter(sites=site)
    return services


def specialties_public() -> QuerySet[Specialty]:
    """Every specialty, for the find-a-doctor filter."""
    return Specialty.objects.all()


def practitioners_search(*, filters: PractitionerFilters) -> QuerySet[Practitioner]:
    """Active practitioners matching every given filter (text matches names, titles,
    interests and specialty)."""
    practitioners = _public_practitioners()
    if filters.site is not None:
        practitioners = practitioners.filter(sites=filters.site)
    if filters.specialty is not None:
        practitioners = practitioners.filter(specialty=filters.specialty)
    if filters.service is not None:
        practitioners = practitioners.filter(services=filters.service)
    for word in filters.text.split()[:10]:
        practitioners = practitioners.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(job_title__icontains=word)
            | Q(clinical_interests__icontains=word)
            | Q(specialty__name__icontains=word)
            | Q(specialty__practitioner_noun__icontains=word)
        )
    return practitioners.distinct()


def practitioner_public(*, slug: str) -> Practitioner:
    """One active practitioner; raises Practitioner.DoesNotExist."""
    return _public_practitioners().get(slug=slug)


def practitioner_filters_resolve(
    *, site: str | None, specialty: str | None, service: str | None, text: str | None
) -> PractitionerFilters:
    """Filters from identifiers (slugs); raises UnknownFilterValue naming the bad one."""
    return PractitionerFilters(
        site=_by_slug(Site, "site", site),
        specialty=_by_slug(Specialty, "specialty", specialty),
        service=_by_slug(Service, "service", service),
        text=(text or "").strip(),
    )


def site_by_slug(slug: str | None) -> Site | None:
    """The site with this slug, ``None`` for no slug; raises UnknownFilterValue."""
    return _by_slug(Site, "site", slug)


def service_by_slug(slug: str | None) -> Service | None:
    """The service with this slug, ``None`` for no slug; raises UnknownFilterValue."""
    return _by_slug(Service, "service", slug)


def _by_slug(model: type[_Named], field: str, slug: str | None) -> _Named | None:
    if not slug:
        return None
    try:
        return model.objects.get(slug=slug)
    except model.DoesNotExist:
        raise UnknownFilterValue(field=field, value=slug) from None
