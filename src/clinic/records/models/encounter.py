"""Encounters of the clinical record (FHIR Encounter) and their addenda."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models.patient import Patient


class EncounterKind(models.TextChoices):
    """The kinds of visit (FHIR Encounter.type)."""

    CONSULTATION = "consultation", "Consultation"
    FOLLOW_UP = "follow_up", "Follow-up"
    TOXIN_CLINIC = "toxin_clinic", "Botulinum toxin clinic"
    EMG = "emg", "EMG"
    DBS_PROGRAMMING = "dbs_programming", "DBS programming"
    THERAPY = "therapy", "Therapy"


class Encounter(models.Model):
    """One visit: who saw the patient, when and where (with its appointment when there was
    one), and the notes. Signed, it is locked: later corrections are addenda."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="encounters")
    kind = models.CharField(max_length=20, choices=EncounterKind.choices)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey("directory.Site", on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="encounter",
    )
    started_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-started_at", "-pk")
        indexes: ClassVar = [
            models.Index(fields=("patient", "started_at"), name="encounter_patient_started"),
            models.Index(fields=("clinician", "started_at"), name="encounter_clinician_started"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="encounter_signed_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.patient} on {self.started_at:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class Addendum(models.Model):
    """A note added to a signed encounter (which is never edited)."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "pk")
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum to {self.encounter} at {self.created_at:%Y-%m-%d %H:%M}"
