"""Clinic letters from a signed encounter, to the GP and referrer with a copy to the patient
(FHIR DocumentReference); a sent letter is kept exactly as sent, HTML and PDF."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models.encounter import Encounter
from clinic.records.models.patient import Patient


class LetterStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"


class Letter(models.Model):
    """A letter about one signed encounter. The draft's text is the clinician's; on sending,
    the letter as rendered (HTML) and its PDF are frozen with the addressees."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="letters")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letters")
    status = models.CharField(
        max_length=5, choices=LetterStatus.choices, default=LetterStatus.DRAFT
    )
    to_gp = models.BooleanField("To the GP", default=True)
    to_referrer = models.BooleanField("To the referrer", default=True)
    copy_to_patient = models.BooleanField("Copy to the patient", default=True)
    plan = models.TextField(blank=True, help_text="The plan, in the clinician's words.")
    comments = models.TextField(blank=True, help_text="Anything else the letter should say.")
    # At sending: [{"role", "name", "organisation", "address", "email"}] as they were.
    addressees = models.JSONField(default=list, blank=True)
    html = models.TextField(blank=True, help_text="The letter as sent.")
    pdf = models.BinaryField(blank=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes: ClassVar = [
            models.Index(fields=("patient", "sent_at"), name="letter_patient_sent"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(status="draft", sent_at__isnull=True, sent_by__isnull=True)
                | models.Q(status="sent", sent_at__isnull=False, sent_by__isnull=False),
                name="letter_sent_by_someone",
            ),
            models.CheckConstraint(
                condition=models.Q(to_gp=True)
                | models.Q(to_referrer=True)
                | models.Q(copy_to_patient=True),
                name="letter_has_an_addressee",
            ),
        ]

    def __str__(self) -> str:
        return f"Letter about {self.encounter}"

    @property
    def is_sent(self) -> bool:
        return self.status == LetterStatus.SENT
