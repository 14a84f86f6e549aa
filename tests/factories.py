"""Builders of made-up directory and account rows for tests."""

from __future__ import annotations

from datetime import date, time
from itertools import count
from typing import Any

from clinic.accounts.models import Role, User
from clinic.directory.models import OpeningHours, Practitioner, Service, Site, Specialty
from clinic.records.models import Patient

_sequence = count(1)


def service(**fields: Any) -> Service:
    n = next(_sequence)
    defaults = {"slug": f"service-{n}", "name": f"Service {n}", "summary": "A made-up service."}
    return Service.objects.create(**(defaults | fields))


def specialty(**fields: Any) -> Specialty:
    n = next(_sequence)
    defaults = {"slug": f"specialty-{n}", "name": f"Specialty {n}", "practitioner_noun": "Expert"}
    return Specialty.objects.create(**(defaults | fields))


def site(**fields: Any) -> Site:
    n = next(_sequence)
    defaults = {
        "slug": f"site-{n}",
        "name": f"Test Site {n}",
        "address_line": f"{n} Made-up Street",
        "postcode": "W1A 1AA",
        "telephone": "020 7946 0999",
    }
    created = Site.objects.create(**(defaults | fields))
    OpeningHours.objects.create(site=created, weekday=0, opens=time(9), closes=time(17))
    return created


def practitioner(
    *, sites: list[Site] | None = None, services: list[Service] | None = None, **fields: Any
) -> Practitioner:
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "slug": f"practitioner-{n}",
        "prefix": "Dr",
        "given_name": "Test",
        "family_name": f"Person{n}",
        "job_title": "Consultant neurologist",
    }
    if "specialty" not in fields:
        defaults["specialty"] = specialty()
    created = Practitioner.objects.create(**(defaults | fields))
    created.sites.set(sites or [])
    created.services.set(services or [])
    return created


def user(*, role: str = Role.PATIENT, **fields: Any) -> User:
    n = next(_sequence)
    defaults = {
        "email": f"person{n}@example.org",
        "full_name": f"Test Person {n}",
        "email_verified": True,
    }
    password = fields.pop("password", "a-made-up-password")
    if role == Role.ADMIN:
        return User.objects.create_superuser(password=password, **(defaults | fields))
    return User.objects.create_user(password=password, role=role, **(defaults | fields))


def patient(*, user: User | None = None, **fields: Any) -> Patient:
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "hospital_number": f"T{n:07d}",
        "given_name": "Test",
        "family_name": f"Patient{n}",
        "date_of_birth": date(1970, 1, 1),
    }
    return Patient.objects.create(user=user, **(defaults | fields))
