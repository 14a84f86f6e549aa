"""Surgery other than deep brain stimulation (FHIR Procedure): selective peripheral
denervation with the nerves and muscles, and other procedures."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models import Encounter, Patient

NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5_000


class ProcedureKind(models.TextChoices):
    """The kinds of procedure."""

    SELECTIVE_PERIPHERAL_DENERVATION = (
        "selective_peripheral_denervation",
        "Selective peripheral denervation",
    )
    OTHER = "other", "Other procedure"


class ProcedureSide(models.TextChoices):
    """The side operated on ("" when a side does not apply)."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Both sides"


class Procedure(models.Model):
    """A procedure: its kind (and name, for another procedure), day, surgeon, hospital, side,
    the nerves and muscles (free text until the toxin muscle catalogue exists), outcome and
    complications."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="procedures")
    kind = models.CharField(max_length=40, choices=ProcedureKind.choices)
    name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    performed_on = models.DateField()
    surgeon = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    hospital = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    side = models.CharField(max_length=10, choices=ProcedureSide.choices, blank=True)
    nerves = models.JSONField(default=list, blank=True, help_text="Names of nerves, as text.")
    muscles = models.JSONField(default=list, blank=True, help_text="Names of muscles, as text.")
    outcome = models.TextField(blank=True)
    complications = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-performed_on", "-pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(kind="other") | ~models.Q(name=""),
                name="procedure_other_has_a_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()

    @property
    def title(self) -> str:
        """What the procedure is called on the pages and the timeline."""
        return self.name if self.kind == ProcedureKind.OTHER else self.get_kind_display()
