"""Shared by the benchmarks: a fresh database of their own, and a generated year of calendars.

All data here is made up. On PostgreSQL (127.0.0.1:5432, or BENCH_DATABASE_URL) each run
recreates the database ``dystonia_bench``; without PostgreSQL, a SQLite file in var/.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "dystonia_bench"
LONDON = ZoneInfo("Europe/London")


def postgres_url() -> str | None:
    """A fresh benchmark database on PostgreSQL, or None when there is no server."""
    url = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
    except OSError:
        return None
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return url


def django_setup(database_url: str) -> None:
    """Configure Django for the benchmark database and migrate it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings.bench"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def sqlite_url() -> str:
    path = ROOT / "var" / "bench.sqlite3"
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}"


@dataclass
class Generated:
    """What the generator made."""

    service_slug: str
    site_slugs: list[str]
    practitioner_ids: list[int]
    first_day: date
    days: int


def generate_calendar(
    *,
    practitioners: int,
    sites: int,
    appointments: int,
    days: int = 365,
    seed: int = 7,
    checkpoint: int = 0,
    on_checkpoint: Callable[[Generated], None] | None = None,
) -> Generated:
    """Sites, one bookable injection service, practitioners working weekdays 09:00-17:00 at
    one site each, each with their own room, and ``appointments`` booked across the year."""
    from clinic.accounts.models import Role, User
    from clinic.directory.models import Practitioner, Service, Site, Specialty
    from clinic.records.models import Patient
    from clinic.scheduling.models import (
        Appointment,
        Resource,
        ServiceSchedule,
        WorkingPattern,
    )

    rng = random.Random(seed)
    service = Service.objects.create(
        slug="bench-toxin", name="Bench toxin clinic", summary="Made up."
    )
    ServiceSchedule.objects.create(
        service=service, duration_minutes=30, buffer_minutes=10, resource_kind="injection_room"
    )
    specialty = Specialty.objects.create(
        slug="bench-neuro", name="Bench neurology", practitioner_noun="Neurologist"
    )
    site_rows = [
        Site.objects.create(
            slug=f"bench-site-{n}",
            name=f"Bench site {n}",
            address_line=f"{n} Made-up Street",
            postcode="W1A 1AA",
            telephone="020 7946 0999",
        )
        for n in range(sites)
    ]
    for site in site_rows:
        site.services.add(service)
    first_day = datetime.now(tz=LONDON).date() + timedelta(days=1)
    booker = User.objects.create_user(
        "bench-booker@example.org", "x", full_name="Bench", role=Role.RECEPTION
    )
    doctor_rows = []
    rooms = {}
    for n in range(practitioners):
        site = site_rows[n % sites]
        doctor = Practitioner.objects.create(
            slug=f"bench-dr-{n}",
            given_name="Bench",
            family_name=f"Doctor {n}",
            job_title="Consultant",
            specialty=specialty,
        )
        doctor.sites.add(site)
        doctor.services.add(service)
        rooms[doctor.pk] = Resource.objects.create(
            site=site, name=f"Room {n}", kind="injection_room"
        )
        WorkingPattern.objects.bulk_create(
            WorkingPattern(
                practitioner=doctor,
                site=site,
                weekday=weekday,
                start_time=time(9),
                end_time=time(17),
                valid_from=first_day,
            )
            for weekday in range(5)
        )
        doctor_rows.append((doctor, site))
    working_days = [
        first_day + timedelta(days=d)
        for d in range(days)
        if (first_day + timedelta(days=d)).weekday() < 5
    ]
    grid = [
        time(9)
        if i == 0
        else (datetime.combine(date.min, time(9)) + timedelta(minutes=40 * i)).time()
        for i in range(12)
    ]
    patients = Patient.objects.bulk_create(
        Patient(
            hospital_number=f"B{n:07d}",
            given_name="Bench",
            family_name=f"Patient {n}",
            date_of_birth=date(1970, 1, 1),
        )
        for n in range(appointments)
    )
    taken: set[tuple[int, date, int]] = set()
    rows = []
    while len(rows) < appointments:
        doctor, site = doctor_rows[rng.randrange(len(doctor_rows))]
        day = working_days[rng.randrange(len(working_days))]
        slot = rng.randrange(len(grid))
        if (doctor.pk, day, slot) in taken:
            continue
        taken.add((doctor.pk, day, slot))
        start = datetime.combine(day, grid[slot], tzinfo=LONDON)
        rows.append(
            Appointment(
                patient=patients[len(rows)],
                practitioner=doctor,
                site=site,
                service=service,
                resource=rooms[doctor.pk],
                start=start,
                end=start + timedelta(minutes=30),
                blocked_until=start + timedelta(minutes=40),
                booked_by=booker,
            )
        )
    generated = Generated(
        service.slug, [s.slug for s in site_rows], [d.pk for d, _ in doctor_rows], first_day, days
    )
    if checkpoint and on_checkpoint is not None:
        Appointment.objects.bulk_create(rows[:checkpoint], batch_size=5000)
        on_checkpoint(generated)
        rows = rows[checkpoint:]
    Appointment.objects.bulk_create(rows, batch_size=5000)
    return generated


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)  # noqa: S603
