"""The examination by body region at an encounter, and the classification the core derives
from history and examination, with the clinician's confirmation or override (both kept);
docs/clinical-record.md."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models.encounter import Encounter
from clinic.records.models.history import LIMB_SIDE_CHOICES, REGION_CHOICES
from dystonia.classification import Distribution

DISTRIBUTION_CHOICES = [(d.value, d.value.capitalize()) for d in Distribution]
FINDING_TEXT_MAX_LENGTH = 500


class Examination(models.Model):
    """The examination at one encounter; locked with it when the encounter is signed."""

    encounter = models.OneToOneField(
        Encounter, on_delete=models.PROTECT, related_name="examination"
    )
    # Values of dystonia.findings.AssociatedFeature.
    associated_features = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Examination at {self.encounter}"


class RegionFinding(models.Model):
    """One involved body region (a limb per side) and what was seen there."""

    examination = models.ForeignKey(Examination, on_delete=models.CASCADE, related_name="regions")
    region = models.CharField(max_length=20, choices=REGION_CHOICES)
    side = models.CharField(max_length=5, choices=LIMB_SIDE_CHOICES, blank=True)
    posture = models.CharField(max_length=FINDING_TEXT_MAX_LENGTH, blank=True)
    movement = models.CharField(max_length=FINDING_TEXT_MAX_LENGTH, blank=True)
    tremor = models.BooleanField(default=False)
    task_specific = models.BooleanField(default=False)

    class Meta:
        ordering = ("region", "side", "pk")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("examination", "region", "side"), name="region_finding_once_per_site"
            ),
            models.CheckConstraint(
                condition=(models.Q(region__in=["upper_limb", "lower_limb"]) & ~models.Q(side=""))
                | (~models.Q(region__in=["upper_limb", "lower_limb"]) & models.Q(side="")),
                name="region_finding_side_exactly_for_a_limb",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.region}".strip()


class ReviewDecision(models.TextChoices):
    PENDING = "", "Not reviewed yet"
    CONFIRMED = "confirmed", "Confirmed"
    OVERRIDDEN = "overridden", "Overridden"


class ClassificationReview(models.Model):
    """What the core derived from one saved history and examination (its input and its
    assessment document, kept as they were), and the clinician's decision on it. A later
    save adds a new review; the newest for an encounter is current."""

    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, related_name="classification_reviews"
    )
    findings = models.JSONField(help_text="The core's input (schemas/findings.schema.json).")
    assessment = models.JSONField(help_text="The core's output (classification.schema.json).")
    classification_version = models.CharField(max_length=40)
    # Copied from the assessment for the clinic search.
    distribution = models.CharField(max_length=20, choices=DISTRIBUTION_CHOICES)
    forms = models.CharField(max_length=300, blank=True, help_text="Space-separated form ids.")
    created_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(
        max_length=10, choices=ReviewDecision.choices, blank=True, default=ReviewDecision.PENDING
    )
    clinician_distribution = models.CharField(
        max_length=20, choices=DISTRIBUTION_CHOICES, blank=True
    )
    clinician_statement = models.CharField("Clinician's classification", max_length=300, blank=True)
    override_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(decision="overridden")
                | (~models.Q(override_reason="") & ~models.Q(clinician_distribution="")),
                name="classification_override_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(decision="", decided_at__isnull=True, decided_by__isnull=True)
                | (
                    ~models.Q(decision="")
                    & models.Q(decided_at__isnull=False, decided_by__isnull=False)
                ),
                name="classification_decided_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.distribution} at {self.encounter}"

    @property
    def final_distribution(self) -> str:
        """The clinician's distribution when overridden, else the core's."""
        if self.decision == ReviewDecision.OVERRIDDEN:
            return self.clinician_distribution
        return self.distribution
