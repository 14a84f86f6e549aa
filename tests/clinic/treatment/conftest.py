"""Fixtures for the treatment app: a clinic with a patient, their clinicians and the other
roles. All data here is made up."""

from __future__ import annotations

from datetime import date

import pytest

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from tests import factories

BORN = date(1970, 1, 1)


@pytest.fixture
def unit(db, staff):
    """A patient with an account, another patient, two clinicians, reception and an
    administrator."""
    patient_user = factories.user(role=Role.PATIENT)
    return {
        "clinician": factories.user(role=Role.CLINICIAN, full_name="Dr Ann Clinician"),
        "colleague": factories.user(role=Role.CLINICIAN, full_name="Dr Bo Colleague"),
        "reception": staff[Role.RECEPTION],
        "admin": staff[Role.ADMIN],
        "patient": factories.patient(user=patient_user, date_of_birth=BORN),
        "patient_user": patient_user,
        "other_patient": factories.patient(
            user=factories.user(role=Role.PATIENT), date_of_birth=BORN
        ),
    }


def last_audit_pk() -> int:
    """The newest audit entry's id (0 when there is none): entries after it are new."""
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_entries(after: int):
    return AuditEntry.objects.filter(pk__gt=after).order_by("pk")
