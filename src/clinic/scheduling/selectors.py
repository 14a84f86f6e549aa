"""Reads of appointments: each checks access and leaves an audit entry per patient shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record, audit_record_many
from clinic.directory.models import Practitioner, Site
from clinic.records.access import (
    Access,
    AccessRefused,
    DataCategory,
    access_patient_data,
    access_patient_list,
    refusal_reveals,
)
from clinic.records.models import Patient
from clinic.scheduling.availability import clinic_tz
from clinic.scheduling.models import Appointment, AppointmentStatus, ServiceSchedule


class AppointmentNotFound(Exception):  # noqa: N818 - reads as the event
    """No appointment has that identifier."""


@dataclass(frozen=True)
class PatientAppointments:
    """A patient's upcoming and past appointments."""

    upcoming: list[Appointment]
    past: list[Appointment]


def _with_relations(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    return appointments.select_related("patient", "practitioner", "site", "service", "resource")


def appointments_of_patient(*, context: AuditContext, patient: Patient) -> PatientAppointments:
    """A patient's appointments (the patient themselves, or staff), audited."""
    allowed = access_patient_data(
        context.actor,
        patient_user_id=patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=Access.READ,
    )
    if not allowed:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="appointment_list",
            patient=patient,
            detail="appointments read refused",
        )
        raise AccessRefused(reveal=refusal_reveals(context.actor))
    now = timezone.now()
    appointments = list(_with_relations(Appointment.objects.filter(patient=patient)))
    audit_record(
        context=context,
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED,
        object_type="appointment_list",
        patient=patient,
        detail=f"{len(appointments)} appointments",
    )
    upcoming = [a for a in appointments if a.start >= now and a.status == AppointmentStatus.BOOKED]
    past = [a for a in appointments if a not in upcoming]
    return PatientAppointments(
        upcoming=upcoming, past=sorted(past, key=lambda a: a.start, reverse=True)
    )


def appointment_for_user(*, context: AuditContext, appointment_id: int) -> Appointment:
    """One appointment, for its patient or staff; raises AppointmentNotFound or AccessRefused
    (both audited)."""
    appointment = _with_relations(Appointment.objects.filter(pk=appointment_id)).first()
    if appointment is None:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="appointment",
            object_id=appointment_id,
            detail="no such appointment",
        )
        raise AppointmentNotFound
    allowed = access_patient_data(
        context.actor,
        patient_user_id=appointment.patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=Access.READ,
    )
    audit_record(
        context=context,
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.REFUSED,
        object_type="appointment",
        object_id=appointment.pk,
        patient=appointment.patient,
        detail="appointment read" if allowed else "appointment read refused",
    )
    if not allowed:
        raise AccessRefused(reveal=refusal_reveals(context.actor))
    return appointment


def calendar_for_staff(
    *,
    context: AuditContext,
    site: Site,
    first_day: date,
    days: int,
    practitioner: Practitioner | None = None,
) -> list[Appointment]:
    """Appointments at a site over some days (reception and clinicians); every patient shown
    gets an audit entry."""
    if not access_patient_list(context.actor):
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="calendar",
            detail="calendar refused",
        )
        raise AccessRefused(reveal=refusal_reveals(context.actor))
    tz = clinic_tz()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(first_day + timedelta(days=days), datetime.min.time(), tzinfo=tz)
    appointments = Appointment.objects.filter(site=site, start__gte=start, start__lt=end)
    if practitioner is not None:
        appointments = appointments.filter(practitioner=practitioner)
    listed = list(_with_relations(appointments))
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="calendar",
        patients=list({a.patient for a in listed}),
        detail=f"calendar {site.slug} {first_day:%Y-%m-%d} +{days}d",
    )
    return listed


def movable_online_by(user: object, appointment: Appointment) -> bool:
    """Staff move any appointment; a patient only one of a service booked online (the rest
    they telephone about)."""
    if getattr(user, "role", None) in {Role.RECEPTION, Role.CLINICIAN}:
        return True
    return ServiceSchedule.objects.filter(
        service_id=appointment.service_id, bookable_online=True
    ).exists()
