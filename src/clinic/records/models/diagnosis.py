"""The problem list: coded diagnoses (FHIR Condition), dystonic and not (hemifacial spasm is a
facial-nerve disorder, recorded as such with its side); docs/clinical-record.md."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models.encounter import Encounter
from clinic.records.models.examination import ClassificationReview
from clinic.records.models.patient import Patient


class DiagnosisKind(models.TextChoices):
    DYSTONIA = "dystonia", "Dystonia"
    HEMIFACIAL_SPASM = "hemifacial_spasm", "Hemifacial spasm (not a dystonia)"
    OTHER = "other", "Other diagnosis"


class DiagnosisSide(models.TextChoices):
    UNSPECIFIED = "", "Not specified"
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"


class ClinicalStatus(models.TextChoices):
    """FHIR Condition.clinicalStatus (the subset a dystonia unit uses)."""

    ACTIVE = "active", "Active"
    REMISSION = "remission", "In remission"
    RESOLVED = "resolved", "Resolved"


class VerificationStatus(models.TextChoices):
    """FHIR Condition.verificationStatus."""

    PROVISIONAL = "provisional", "Provisional"
    CONFIRMED = "confirmed", "Confirmed"
    REFUTED = "refuted", "Refuted"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class Diagnosis(models.Model):
    """One entry on the patient's problem list, with its codes from the core."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diagnoses")
    kind = models.CharField(max_length=20, choices=DiagnosisKind.choices)
    label = models.CharField(max_length=200)
    side = models.CharField(max_length=9, choices=DiagnosisSide.choices, blank=True)
    # Code.as_dict() of each code (system, code, display, applies_to, source).
    codes = models.JSONField(default=list, blank=True)
    clinical_status = models.CharField(
        max_length=10, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE
    )
    verification_status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.CONFIRMED
    )
    diagnosed_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="diagnoses"
    )
    classification_review = models.ForeignKey(
        ClassificationReview,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="diagnoses",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "diagnoses"
        ordering = ("-diagnosed_on", "-pk")
        indexes: ClassVar = [
            models.Index(fields=("patient", "diagnosed_on"), name="diagnosis_patient_date"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(kind="hemifacial_spasm") | models.Q(side=""),
                name="diagnosis_side_only_for_hemifacial_spasm",
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_on__isnull=True)
                | models.Q(resolved_on__gte=models.F("diagnosed_on")),
                name="diagnosis_resolved_after_diagnosed",
            ),
        ]

    def __str__(self) -> str:
        return self.label
