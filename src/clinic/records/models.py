"""The patient record (FHIR Patient); later issues add the clinical record around it."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from dystonia.errors import InvalidInput
from dystonia.identifiers import nhs_number_display, nhs_number_normalise

NAME_MAX_LENGTH = 100


def validate_nhs_number(value: str) -> None:
    """Form and model validation of the NHS number's check digit."""
    try:
        nhs_number_normalise(value)
    except InvalidInput:
        raise ValidationError(
            "Enter a valid NHS number: 10 digits, such as 943 476 5919.", code="nhs_number"
        ) from None


class Patient(models.Model):
    """A person under the unit's care, with identifiers, contact details and GP."""

    hospital_number = models.CharField(max_length=20, unique=True)
    nhs_number = models.CharField(
        "NHS number",
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_nhs_number],
        help_text="Ten digits; stored without spaces.",
    )
    given_name = models.CharField(max_length=NAME_MAX_LENGTH)
    family_name = models.CharField(max_length=NAME_MAX_LENGTH)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    gp_name = models.CharField("GP name", max_length=150, blank=True)
    gp_practice = models.CharField("GP practice", max_length=200, blank=True)
    gp_address = models.CharField("GP practice address", max_length=300, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patient_record",
        help_text="The patient's own sign-in, where they have one.",
    )
    date_of_death = models.DateField(null=True, blank=True)
    discharged_on = models.DateField(
        null=True, blank=True, help_text="Discharged from the unit's care on this date."
    )
    registered_by_patient = models.BooleanField(
        default=False, help_text="Created by the patient's own sign-up; check for duplicates."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("family_name", "given_name", "pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(nhs_number__isnull=True)
                | models.Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="patient_nhs_number_ten_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.hospital_number})"

    @property
    def contact_email(self) -> str:
        """Where to email the patient: the record's address, else their sign-in address."""
        if self.email:
            return self.email
        return self.user.email if self.user_id and self.user else ""

    @property
    def under_care(self) -> bool:
        """Alive and not discharged: recalls and reminders apply."""
        return self.date_of_death is None and self.discharged_on is None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_number_display(self) -> str:
        return nhs_number_display(self.nhs_number) if self.nhs_number else ""
