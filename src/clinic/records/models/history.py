"""The history taken at an encounter (presenting complaint, onset, spread, what changes it),
and the patient's drug and family history (FHIR Observation, MedicationStatement,
FamilyMemberHistory); docs/clinical-record.md."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models.encounter import Encounter
from clinic.records.models.patient import Patient
from dystonia.anatomy import Region
from dystonia.findings import MAX_AGE_YEARS, Course

REGION_CHOICES = [(region.value, region.label.capitalize()) for region in Region]
LIMB_SIDE_CHOICES = [("left", "Left"), ("right", "Right")]
COURSE_CHOICES = [(Course.STATIC.value, "Static"), (Course.PROGRESSIVE.value, "Progressive")]


class History(models.Model):
    """The history as taken at one encounter; locked with it when the encounter is signed."""

    encounter = models.OneToOneField(Encounter, on_delete=models.PROTECT, related_name="history")
    presenting_complaint = models.TextField(blank=True)
    age_at_onset_years = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Completed years of age when the first symptom began."
    )
    first_region = models.CharField(max_length=20, choices=REGION_CHOICES, blank=True)
    first_side = models.CharField(max_length=5, choices=LIMB_SIDE_CHOICES, blank=True)
    spread = models.TextField("Spread over time", blank=True)
    triggers = models.TextField(blank=True)
    sensory_tricks = models.TextField(blank=True)
    better_with = models.TextField("Better with", blank=True)
    worse_with = models.TextField("Worse with", blank=True)
    course = models.CharField(max_length=12, choices=COURSE_CHOICES, blank=True)
    # Values of dystonia.findings.Variability.
    variability = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "histories"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(age_at_onset_years__isnull=True)
                | models.Q(age_at_onset_years__lte=MAX_AGE_YEARS),
                name="history_age_at_onset_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(first_side="")
                | models.Q(first_region__in=["upper_limb", "lower_limb"]),
                name="history_first_side_only_for_a_limb",
            ),
        ]

    def __str__(self) -> str:
        return f"History at {self.encounter}"


class DrugExposure(models.Model):
    """A medicine the patient takes or took, for the drug history; a dopamine-receptor
    blocker is flagged as a possible cause of the dystonia."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="drug_history")
    drug = models.CharField(max_length=100)
    dopamine_receptor_blocker = models.BooleanField(default=False)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-dopamine_receptor_blocker", "drug", "pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(started_on__isnull=True)
                | models.Q(stopped_on__isnull=True)
                | models.Q(stopped_on__gte=models.F("started_on")),
                name="drug_exposure_stops_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.drug


class Relationship(models.TextChoices):
    """A relative, by generation and side of the family (the pedigree table's rows)."""

    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    SISTER = "sister", "Sister"
    BROTHER = "brother", "Brother"
    DAUGHTER = "daughter", "Daughter"
    SON = "son", "Son"
    MATERNAL_GRANDMOTHER = "maternal_grandmother", "Maternal grandmother"
    MATERNAL_GRANDFATHER = "maternal_grandfather", "Maternal grandfather"
    PATERNAL_GRANDMOTHER = "paternal_grandmother", "Paternal grandmother"
    PATERNAL_GRANDFATHER = "paternal_grandfather", "Paternal grandfather"
    MATERNAL_AUNT = "maternal_aunt", "Maternal aunt"
    MATERNAL_UNCLE = "maternal_uncle", "Maternal uncle"
    PATERNAL_AUNT = "paternal_aunt", "Paternal aunt"
    PATERNAL_UNCLE = "paternal_uncle", "Paternal uncle"
    MATERNAL_COUSIN = "maternal_cousin", "Maternal cousin"
    PATERNAL_COUSIN = "paternal_cousin", "Paternal cousin"
    NIECE_OR_NEPHEW = "niece_or_nephew", "Niece or nephew"
    GRANDCHILD = "grandchild", "Grandchild"
    OTHER = "other", "Other relative"


class FamilyMember(models.Model):
    """A relative and their condition; a relative with dystonia makes the family history
    positive (the hereditary flag)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="relatives")
    relationship = models.CharField(max_length=24, choices=Relationship.choices)
    condition = models.CharField(max_length=200)
    has_dystonia = models.BooleanField(
        "This condition is a dystonia", default=False, help_text="Sets the hereditary flag."
    )
    age_at_onset_years = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("relationship", "pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(age_at_onset_years__isnull=True)
                | models.Q(age_at_onset_years__lte=MAX_AGE_YEARS),
                name="family_member_age_at_onset_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_relationship_display()}: {self.condition}"
