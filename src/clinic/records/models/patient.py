"""The patient record (FHIR Patient) with next of kin and alerts (FHIR Flag)."""

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
    gp_email = models.EmailField("GP practice email", blank=True)
    referrer_name = models.CharField("Referred by", max_length=150, blank=True)
    referrer_organisation = models.CharField("Referrer's organisation", max_length=200, blank=True)
    referrer_address = models.CharField("Referrer's address", max_length=300, blank=True)
    referrer_email = models.EmailField("Referrer's email", blank=True)
    # Consent (what the patient agreed to, and when it was last asked).
    consents_to_email = models.BooleanField(
        "Agrees to email", default=True, help_text="Appointment emails and letters by email."
    )
    consents_to_gp_letters = models.BooleanField(
        "Agrees to letters to the GP", default=True, help_text="Clinic letters copied to the GP."
    )
    consents_to_research_contact = models.BooleanField(
        "Agrees to be contacted about research", default=False
    )
    consent_recorded_on = models.DateField(null=True, blank=True)
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
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_duplicates",
        help_text="A duplicate record merged by an administrator into this one.",
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True, merged_at__isnull=True)
                | models.Q(merged_into__isnull=False, merged_at__isnull=False),
                name="patient_merged_into_with_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("pk")), name="patient_not_merged_into_self"
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
    def is_merged(self) -> bool:
        """Merged into another record: kept for the audit trail, no longer used."""
        return self.merged_into_id is not None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_number_display(self) -> str:
        return nhs_number_display(self.nhs_number) if self.nhs_number else ""


class NextOfKin(models.Model):
    """Someone to contact about the patient (FHIR Patient.contact)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="next_of_kin")
    name = models.CharField(max_length=NAME_MAX_LENGTH * 2)
    relationship = models.CharField(max_length=60)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    is_emergency_contact = models.BooleanField(default=False)

    class Meta:
        ordering = ("-is_emergency_contact", "name", "pk")
        verbose_name_plural = "next of kin"

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"


class AlertKind(models.TextChoices):
    """What every clinical page must show about a patient (FHIR Flag, AllergyIntolerance)."""

    ALLERGY = "allergy", "Allergy"
    ANTICOAGULATED = "anticoagulated", "Anticoagulated"
    PREGNANT = "pregnant", "Pregnant"
    NEUROMUSCULAR = "neuromuscular", "Neuromuscular junction disorder (e.g. myasthenia)"
    NEEDS_HOIST = "needs_hoist", "Needs a hoist"
    OTHER = "other", "Other"


class PatientAlert(models.Model):
    """An allergy or alert, active until ended (kept afterwards, with who ended it)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    detail = models.CharField(
        max_length=200, blank=True, help_text="For an allergy: the substance and the reaction."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("kind", "recorded_at", "pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(kind__in=["allergy", "other"]) | ~models.Q(detail=""),
                name="patient_alert_allergy_or_other_says_what",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_by__isnull=False),
                name="patient_alert_ended_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()}: {self.detail}" if self.detail else self.get_kind_display()
        )
