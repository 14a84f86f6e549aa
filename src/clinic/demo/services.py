"""Loading the demonstration data; running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import Role, User
from clinic.demo import data
from clinic.demo.clinical import clinical_record_load
from clinic.directory.models import OpeningHours, Practitioner, Service, Site, Specialty
from clinic.information.models import NewsItem, Story
from clinic.records.models import Patient
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import (
    Recall,
    RecallStatus,
    Resource,
    ResourceKind,
    ServiceSchedule,
    WorkingPattern,
)


@dataclass(frozen=True)
class DemoLoadResult:
    """How many rows the load created (all zero when the data was already there)."""

    created: int


@transaction.atomic
def demo_load() -> DemoLoadResult:
    """Create or update the demonstration sites, services, staff, stories and the admin."""
    created = 0
    services: dict[str, Service] = {}
    for order, (slug, name, summary) in enumerate(data.SERVICES):
        services[slug], was_created = Service.objects.update_or_create(
            slug=slug, defaults={"name": name, "summary": summary, "display_order": order}
        )
        created += was_created
    specialties: dict[str, Specialty] = {}
    for slug, name, noun in data.SPECIALTIES:
        specialties[slug], was_created = Specialty.objects.update_or_create(
            slug=slug, defaults={"name": name, "practitioner_noun": noun}
        )
        created += was_created
    sites: dict[str, Site] = {}
    for slug, name, main, line, postcode, phone, saturday, offered in data.SITES:
        site, was_created = Site.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "is_specialist_unit": main,
                "address_line": line,
                "city": "London",
                "postcode": postcode,
                "telephone": phone,
                "is_example": True,
            },
        )
        created += was_created
        created += _opening_hours_load(site, saturday=saturday)
        site.services.set([services[s] for s in offered])
        sites[slug] = site
    for (
        slug,
        prefix,
        given,
        family,
        title,
        specialty,
        interests,
        at,
        provides,
    ) in data.PRACTITIONERS:
        practitioner, was_created = Practitioner.objects.update_or_create(
            slug=slug,
            defaults={
                "prefix": prefix,
                "given_name": given,
                "family_name": family,
                "job_title": title,
                "specialty": specialties[specialty],
                "clinical_interests": interests,
                "biography": data.FICTIONAL_BIOGRAPHY.format(name=f"{given} {family}"),
                "is_example": True,
            },
        )
        created += was_created
        practitioner.sites.set([sites[s] for s in at])
        practitioner.services.set([services[s] for s in provides])
    created += _articles_load(Story, data.STORIES)
    created += _articles_load(NewsItem, data.NEWS)
    created += _admin_load()
    created += _staff_load()
    created += _patients_load()
    created += _scheduling_load(services, sites)
    created += _recalls_load(services)
    created += clinical_record_load()
    return DemoLoadResult(created=created)


def _opening_hours_load(site: Site, *, saturday: bool) -> int:
    days = [(day, *data.WEEKDAY_HOURS) for day in data.WEEKDAYS]
    if saturday:
        days.append((5, *data.SATURDAY_HOURS))
    created = 0
    for weekday, opens, closes in days:
        _, was_created = OpeningHours.objects.update_or_create(
            site=site, weekday=weekday, opens=opens, defaults={"closes": closes}
        )
        created += was_created
    return created


def _articles_load(model: type[Story] | type[NewsItem], rows: tuple[tuple, ...]) -> int:  # type: ignore[type-arg]
    created = 0
    for slug, title, summary, body, published_on in rows:
        _, was_created = model.objects.update_or_create(
            slug=slug,
            defaults={
                "title": title,
                "summary": summary,
                "body": body,
                "published_on": published_on,
                "is_example": True,
            },
        )
        created += was_created
    return created


def _totp_load(user: User) -> None:
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(
            user=user, name="Demo authenticator", key=data.DEMO_TOTP_KEY_HEX, confirmed=True
        )


def _admin_load() -> int:
    admin = User.objects.filter(email=data.DEMO_ADMIN_EMAIL).first()
    created = 0
    if admin is None:
        admin = User.objects.create_superuser(
            data.DEMO_ADMIN_EMAIL,
            data.DEMO_ADMIN_PASSWORD,
            full_name="Demo Administrator",
            email_verified=True,
        )
        created = 1
    _totp_load(admin)
    return created


def _staff_load() -> int:
    created = 0
    for email, password, name, role, practitioner_slug in data.DEMO_STAFF:
        user = User.objects.filter(email=email).first()
        if user is None:
            practitioner = (
                Practitioner.objects.get(slug=practitioner_slug) if practitioner_slug else None
            )
            user = User.objects.create_user(
                email,
                password,
                full_name=name,
                role=role,
                practitioner=practitioner,
                email_verified=True,
            )
            created += 1
        _totp_load(user)
    return created


def _patients_load() -> int:
    created = 0
    for given, family, born, nhs_number, hospital_number in data.DEMO_PATIENTS:
        _, was_created = Patient.objects.get_or_create(
            hospital_number=hospital_number,
            defaults={
                "given_name": given,
                "family_name": family,
                "date_of_birth": born,
                "nhs_number": nhs_number,
                "email": f"{given.lower()}.{family.lower()}@example.org",
                **dict(data.DEMO_GP_AND_REFERRER),
            },
        )
        created += was_created
    if not User.objects.filter(email=data.DEMO_PATIENT_EMAIL).exists():
        user = User.objects.create_user(
            data.DEMO_PATIENT_EMAIL,
            data.DEMO_PATIENT_PASSWORD,
            full_name="Patricia Demo",
            role=Role.PATIENT,
            email_verified=True,
        )
        Patient.objects.filter(hospital_number=data.DEMO_PATIENTS[0][4]).update(user=user)
        created += 1
    return created


__all__ = ["DemoLoadResult", "demo_load"]


def _scheduling_load(services: dict[str, Service], sites: dict[str, Site]) -> int:
    created = 0
    for slug, (minutes, buffer, kind, online) in data.SERVICE_SCHEDULES.items():
        _, was_created = ServiceSchedule.objects.update_or_create(
            service=services[slug],
            defaults={
                "duration_minutes": minutes,
                "buffer_minutes": buffer,
                "resource_kind": kind,
                "bookable_online": online,
            },
        )
        created += was_created
    for site in sites.values():
        kinds = {data.SERVICE_SCHEDULES[s.slug][2] for s in site.services.all()}
        for kind in sorted(kinds):
            for number in (1, 2) if kind in {"consulting_room", "injection_room"} else (1,):
                label = ResourceKind(kind).label
                _, was_created = Resource.objects.get_or_create(
                    site=site, name=f"{label} {number}", defaults={"kind": kind}
                )
                created += was_created
    practitioners = {p.slug: p for p in Practitioner.objects.all()}
    for slug, site_slug, weekday, start, end in data.WORKING_PATTERNS:
        _, was_created = WorkingPattern.objects.get_or_create(
            practitioner=practitioners[slug],
            site=sites[site_slug],
            weekday=weekday,
            start_time=start,
            defaults={"end_time": end, "valid_from": data.PATTERNS_VALID_FROM},
        )
        created += was_created
    return created


def _recalls_load(services: dict[str, Service]) -> int:
    """A few open recalls, so the recall list has something to work (made up)."""
    reception = User.objects.get(email=data.DEMO_STAFF[0][0])
    today = local_today()
    created = 0
    for number, service, days, reason in data.DEMO_RECALLS:
        patient = Patient.objects.get(hospital_number=number)
        _, was_created = Recall.objects.get_or_create(
            patient=patient,
            service=services[service],
            status=RecallStatus.OPEN,
            defaults={
                "due_by": today + timedelta(days=days),
                "reason": reason,
                "created_by": reception,
            },
        )
        created += was_created
    return created
