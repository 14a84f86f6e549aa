"""The access rule, role by data category by whose record, case by case (records/access.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from clinic.accounts.models import Role
from clinic.records.access import (
    Access,
    DataCategory,
    access_audit_log,
    access_create_patient,
    access_patient_data,
    access_patient_list,
    access_staff_write,
)
from tests import factories

pytestmark = pytest.mark.django_db

R, W = Access.READ, Access.WRITE
DEMOGRAPHICS, APPOINTMENTS, ENQUIRIES, CLINICAL = DataCategory

# (role, whose record, category, access) -> allowed
MATRIX = [
    # A patient: everything of their own to read, their own non-clinical data to write...
    (Role.PATIENT, "own", DEMOGRAPHICS, R, True),
    (Role.PATIENT, "own", APPOINTMENTS, R, True),
    (Role.PATIENT, "own", ENQUIRIES, R, True),
    (Role.PATIENT, "own", CLINICAL, R, True),
    (Role.PATIENT, "own", DEMOGRAPHICS, W, True),
    (Role.PATIENT, "own", APPOINTMENTS, W, True),
    (Role.PATIENT, "own", ENQUIRIES, W, True),
    (Role.PATIENT, "own", CLINICAL, W, False),
    # ...and nothing of anyone else's.
    *[
        (Role.PATIENT, "other", category, access, False)
        for category in DataCategory
        for access in Access
    ],
    # Reception: demographics, appointments and enquiries, never clinical notes.
    *[
        (Role.RECEPTION, "other", category, access, True)
        for category in (DEMOGRAPHICS, APPOINTMENTS, ENQUIRIES)
        for access in Access
    ],
    (Role.RECEPTION, "other", CLINICAL, R, False),
    (Role.RECEPTION, "other", CLINICAL, W, False),
    # Clinicians: everything, clinical included.
    *[
        (Role.CLINICIAN, "other", category, access, True)
        for category in DataCategory
        for access in Access
    ],
    # Administrators manage accounts, not records.
    *[
        (Role.ADMIN, "other", category, access, False)
        for category in DataCategory
        for access in Access
    ],
]


@pytest.mark.parametrize(("role", "whose", "category", "access", "allowed"), MATRIX)
def test_access_matrix(role, whose, category, access, allowed):
    user = factories.user(role=role)
    user.is_verified = lambda: True  # two-factor done, as the OTP middleware marks it
    owner = user if whose == "own" else factories.user(role=Role.PATIENT)
    patient = factories.patient(user=owner)

    assert (
        access_patient_data(user, patient_user_id=patient.user_id, category=category, access=access)
        is allowed
    )


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.CLINICIAN])
def test_staff_without_the_second_factor_see_nothing(role):
    user = factories.user(role=role)
    user.is_verified = lambda: False
    patient = factories.patient()

    assert not access_patient_data(
        user, patient_user_id=patient.user_id, category=DEMOGRAPHICS, access=R
    )
    assert not access_patient_list(user)


def test_anonymous_and_inactive_users_see_nothing():
    patient = factories.patient(user=factories.user())
    inactive = factories.user(role=Role.CLINICIAN, is_active=False)
    inactive.is_verified = lambda: True

    for user in (AnonymousUser(), inactive):
        assert not access_patient_data(
            user, patient_user_id=patient.user_id, category=DEMOGRAPHICS, access=R
        )
        assert not access_patient_list(user)
        assert not access_audit_log(user)


def test_a_patient_without_an_account_is_nobodys_own_record():
    user = factories.user(role=Role.PATIENT)

    assert not access_patient_data(user, patient_user_id=None, category=DEMOGRAPHICS, access=R)


@pytest.mark.parametrize(
    ("role", "lists", "creates", "audits"),
    [
        (Role.PATIENT, False, False, False),
        (Role.RECEPTION, True, True, False),
        (Role.CLINICIAN, True, True, False),
        (Role.ADMIN, False, False, True),
    ],
)
def test_who_lists_creates_and_audits(role, lists, creates, audits):
    user = factories.user(role=role)
    user.is_verified = lambda: True

    assert access_patient_list(user) is lists
    assert access_create_patient(user) is creates
    assert access_audit_log(user) is audits


@pytest.mark.parametrize(
    ("role", "whose", "category", "allowed"),
    [
        (Role.PATIENT, "own", DEMOGRAPHICS, False),  # what the unit records about them
        (Role.RECEPTION, "other", DEMOGRAPHICS, True),
        (Role.RECEPTION, "other", CLINICAL, False),
        (Role.CLINICIAN, "other", CLINICAL, True),
        (Role.ADMIN, "other", DEMOGRAPHICS, False),
    ],
)
def test_staff_writes_of_what_the_unit_records(role, whose, category, allowed):
    user = factories.user(role=role)
    user.is_verified = lambda: True
    owner = user if whose == "own" else factories.user(role=Role.PATIENT)
    patient = factories.patient(user=owner)

    assert access_staff_write(user, patient_user_id=patient.user_id, category=category) is allowed
    assert access_staff_write(None, patient_user_id=patient.user_id, category=category) is False
