"""Medication prescribed by the unit (FHIR MedicationStatement with its dosage): the medicine,
why, when it was started and stopped (with the reason), its effect and side effects, and the
titration steps of its dose. Distinct from the drug history (records.DrugExposure), which is
what the patient takes or took before or outside the unit."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models import Encounter, Patient

DRUG_MAX_LENGTH = 100
PURPOSE_MAX_LENGTH = 300
NOTE_MAX_LENGTH = 300
# Storage bounds of a dose: up to 99,999.999 in its unit. The reference gives no maximum
# dose for any medicine (clinical.md 6.1 gives titration examples and starting doses only),
# so no dose is refused as too large below this bound (docs/treatment.md).
DOSE_MAX_DIGITS = 8
DOSE_DECIMAL_PLACES = 3


class StopReason(models.TextChoices):
    """Why a medicine was stopped."""

    INEFFECTIVE = "ineffective", "Ineffective"
    SIDE_EFFECTS = "side_effects", "Side effects"
    NO_LONGER_NEEDED = "no_longer_needed", "No longer needed"
    PATIENT_CHOICE = "patient_choice", "Patient's choice"
    OTHER = "other", "Other"


class Effect(models.TextChoices):
    """The effect of a medicine on the dystonia, as the clinician judges it."""

    NOT_ASSESSED = "not_assessed", "Not yet assessed"
    NONE = "none", "None"
    SOME = "some", "Some"
    MARKED = "marked", "Marked"
    WORSE = "worse", "Worse"


class DoseUnit(models.TextChoices):
    """The unit of a dose."""

    MG = "mg", "mg"
    MICROGRAM = "microgram", "microgram"
    ML = "mL", "mL"


class Medication(models.Model):
    """A medicine prescribed for the patient, with its start, stop and effect; a
    dopamine-receptor blocker is flagged as a possible cause of dystonia."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medications")
    drug = models.CharField(max_length=DRUG_MAX_LENGTH)
    dopamine_receptor_blocker = models.BooleanField(default=False)
    purpose = models.CharField("Purpose or indication", max_length=PURPOSE_MAX_LENGTH, blank=True)
    started_on = models.DateField()
    stopped_on = models.DateField(null=True, blank=True)
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True)
    effect = models.CharField(max_length=20, choices=Effect.choices, default=Effect.NOT_ASSESSED)
    side_effects = models.TextField(blank=True)
    prescribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-started_on", "-pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(stopped_on__isnull=True)
                | models.Q(stopped_on__gte=models.F("started_on")),
                name="medication_stops_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(stopped_on__isnull=True, stop_reason="")
                | (models.Q(stopped_on__isnull=False) & ~models.Q(stop_reason="")),
                name="medication_stop_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.drug

    @property
    def is_stopped(self) -> bool:
        return self.stopped_on is not None


class TitrationStep(models.Model):
    """One step of a medicine's dose: from a day, an amount in a unit so many times a day."""

    medication = models.ForeignKey(
        Medication, on_delete=models.CASCADE, related_name="titration_steps"
    )
    starts_on = models.DateField()
    dose = models.DecimalField(max_digits=DOSE_MAX_DIGITS, decimal_places=DOSE_DECIMAL_PLACES)
    unit = models.CharField(max_length=10, choices=DoseUnit.choices)
    times_per_day = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("starts_on", "pk")
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(dose__gt=0), name="titration_dose_positive"),
            models.CheckConstraint(
                condition=models.Q(times_per_day__gte=1, times_per_day__lte=24),
                name="titration_times_per_day_in_range",
            ),
            models.UniqueConstraint(
                fields=("medication", "starts_on"), name="titration_one_step_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dose} {self.unit} x {self.times_per_day} from {self.starts_on}"
