"""Therapy (FHIR ServiceRequest and Procedure): a referral to physiotherapy, speech and language
therapy or occupational therapy with its reason, goals, status and outcome, and its sessions."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models import Encounter, Patient

REASON_MAX_LENGTH = 2_000
GOALS_MAX_LENGTH = 2_000
OUTCOME_MAX_LENGTH = 2_000
SESSION_TEXT_MAX_LENGTH = 5_000


class Discipline(models.TextChoices):
    """The therapies the unit refers to."""

    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy"
    SPEECH_AND_LANGUAGE = "speech_and_language", "Speech and language therapy"
    OCCUPATIONAL = "occupational", "Occupational therapy"


class ReferralStatus(models.TextChoices):
    """Where a referral stands."""

    REFERRED = "referred", "Referred"
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"
    DECLINED = "declined", "Declined"


class TherapyReferral(models.Model):
    """A referral to a therapy, its goals, and once discharged its outcome."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="therapy_referrals")
    discipline = models.CharField(max_length=24, choices=Discipline.choices)
    referred_on = models.DateField()
    reason = models.TextField(blank=True)
    goals = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.REFERRED
    )
    discharged_on = models.DateField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-referred_on", "-pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(discharged_on__isnull=True)
                | models.Q(discharged_on__gte=models.F("referred_on")),
                name="therapy_discharged_after_referral",
            ),
            models.CheckConstraint(
                condition=models.Q(status="discharged", discharged_on__isnull=False)
                | (~models.Q(status="discharged") & models.Q(discharged_on__isnull=True)),
                name="therapy_discharge_has_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_discipline_display()} referral"


class TherapySession(models.Model):
    """One session of a therapy: when, whether the patient came, notes and progress."""

    referral = models.ForeignKey(TherapyReferral, on_delete=models.CASCADE, related_name="sessions")
    held_on = models.DateField()
    attended = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    progress = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-held_on", "-pk")

    def __str__(self) -> str:
        return f"Session on {self.held_on}"
