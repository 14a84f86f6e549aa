"""Shared fixtures. All data here is made up."""

from __future__ import annotations

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import Role
from clinic.demo.services import demo_load
from tests import factories


@pytest.fixture
def demo_data(db):
    """The made-up demonstration data (six sites, fictional staff, example stories)."""
    return demo_load()


def sign_in(client, user, *, second_factor: bool = True):
    """Sign the test client in as ``user``; with ``second_factor``, as if they had also
    entered a code from a confirmed authenticator."""
    client.force_login(user)
    if second_factor:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def patient_user(db):
    """A patient account with its own record."""
    user = factories.user(role=Role.PATIENT)
    factories.patient(user=user)
    return user


@pytest.fixture
def other_patient(db):
    """Someone else's record, with its own account."""
    return factories.patient(user=factories.user(role=Role.PATIENT))


@pytest.fixture
def staff(db):
    """One account per staff role."""
    return {
        role: factories.user(role=role) for role in (Role.RECEPTION, Role.CLINICIAN, Role.ADMIN)
    }
