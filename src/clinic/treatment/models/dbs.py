"""Deep brain stimulation (FHIR Device and Procedure): the implanted system (target, generator,
rechargeable or not, MRI status), its leads, battery checks, and programming sessions with one
setting per hemisphere. A setting's charge density per active contact is computed by the core
(dystonia.dbs) when it is saved and kept with it, with the warning when it exceeds the lead's
published limit."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from clinic.records.models import Encounter, Patient

MODEL_MAX_LENGTH = 100
NOTES_MAX_LENGTH = 5_000
# Storage bounds of a setting (operational, not clinical: the generator's own range is the
# core's, dystonia.dbs.GENERATORS): amplitude up to 999.99 V or mA, pulse width up to
# 32,767 µs, frequency up to 9,999.9 Hz.
AMPLITUDE_MAX_DIGITS = 5
AMPLITUDE_DECIMAL_PLACES = 2
FREQUENCY_MAX_DIGITS = 5
FREQUENCY_DECIMAL_PLACES = 1
# An operational bound on a lead's contacts: today's leads have at most 8.
MAX_CONTACTS = 16


class DbsTarget(models.TextChoices):
    """Where the leads are."""

    GPI = "gpi", "GPi (globus pallidus internus)"
    STN = "stn", "STN (subthalamic nucleus)"
    OTHER = "other", "Other target"


class MriStatus(models.TextChoices):
    """What the generator's labelling says about MRI."""

    MR_CONDITIONAL = "mr_conditional", "MR conditional"
    MR_UNSAFE = "mr_unsafe", "MR unsafe"
    UNKNOWN = "unknown", "Unknown"


class Hemisphere(models.TextChoices):
    """The side of the brain."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class BatteryStatus(models.TextChoices):
    """A battery check's reading, in order of depletion."""

    OK = "ok", "OK"
    LOW = "low", "Low"
    REPLACEMENT_DUE = "eri", "Replacement due (ERI)"
    END_OF_SERVICE = "eos", "End of service"


class AmplitudeUnit(models.TextChoices):
    """Voltage-controlled or current-controlled stimulation."""

    VOLT = "V", "V"
    MILLIAMPERE = "mA", "mA"


class DbsSystem(models.Model):
    """An implanted stimulation system: target, implant day, generator (a catalogue model or
    another with its name), rechargeable or not, and what its labelling says about MRI."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="dbs_systems")
    target = models.CharField(max_length=10, choices=DbsTarget.choices)
    target_other = models.CharField(max_length=MODEL_MAX_LENGTH, blank=True)
    implanted_on = models.DateField()
    # A key of dystonia.dbs.GENERATORS, or "other" with its name in generator_model; not a
    # choices field, so adding a generator to the catalogue needs no migration.
    generator = models.CharField(max_length=40)
    generator_model = models.CharField(max_length=MODEL_MAX_LENGTH, blank=True)
    rechargeable = models.BooleanField()
    mri_status = models.CharField(
        "MRI status", max_length=20, choices=MriStatus.choices, default=MriStatus.UNKNOWN
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "DBS system"
        ordering = ("-implanted_on", "-pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(target="other") | ~models.Q(target_other=""),
                name="dbs_other_target_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(generator="other") | ~models.Q(generator_model=""),
                name="dbs_other_generator_named",
            ),
        ]

    def __str__(self) -> str:
        return f"DBS system implanted {self.implanted_on}"


class DbsLead(models.Model):
    """A lead in one hemisphere: its model (a catalogue lead or another, named) and contacts."""

    system = models.ForeignKey(DbsSystem, on_delete=models.CASCADE, related_name="leads")
    hemisphere = models.CharField(max_length=5, choices=Hemisphere.choices)
    # A key of dystonia.dbs.LEADS, or "other" with its name in model_other.
    model = models.CharField(max_length=20)
    model_other = models.CharField(max_length=MODEL_MAX_LENGTH, blank=True)
    contact_count = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = "DBS lead"
        ordering = ("hemisphere", "pk")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("system", "hemisphere"), name="dbs_one_lead_per_hemisphere"
            ),
            models.CheckConstraint(
                condition=models.Q(contact_count__gte=1, contact_count__lte=MAX_CONTACTS),
                name="dbs_lead_contacts_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(model="other") | ~models.Q(model_other=""),
                name="dbs_other_lead_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_hemisphere_display()} lead"


class BatteryCheck(models.Model):
    """A reading of the generator's battery; low or worse raises the alert on the patient's
    pages (abrupt loss of stimulation can precipitate a dystonic crisis)."""

    system = models.ForeignKey(DbsSystem, on_delete=models.CASCADE, related_name="battery_checks")
    checked_on = models.DateField()
    status = models.CharField(max_length=5, choices=BatteryStatus.choices)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-checked_on", "-pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(percent__isnull=True) | models.Q(percent__lte=100),
                name="battery_percent_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Battery {self.get_status_display()} on {self.checked_on}"


class DbsProgramming(models.Model):
    """A programming session: when, by whom, at which encounter, side effects and notes; its
    settings hold one per hemisphere."""

    system = models.ForeignKey(DbsSystem, on_delete=models.CASCADE, related_name="programming")
    programmed_at = models.DateTimeField()
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    side_effects = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "DBS programming session"
        ordering = ("-programmed_at", "-pk")

    def __str__(self) -> str:
        return f"DBS programming at {self.programmed_at}"


class DbsSetting(models.Model):
    """One hemisphere's setting: the lead, each contact's polarity ("-", "+" or "off", and the
    case), amplitude in V or mA, pulse width, frequency, each active contact's impedance, and
    the charge density the core computed per active contact with its warning, if any."""

    programming = models.ForeignKey(
        DbsProgramming, on_delete=models.CASCADE, related_name="settings"
    )
    lead = models.ForeignKey(DbsLead, on_delete=models.PROTECT, related_name="+")
    contacts = models.JSONField(help_text='Polarity by contact: {"0": "-", ..., "case": "+"}.')
    amplitude = models.DecimalField(
        max_digits=AMPLITUDE_MAX_DIGITS, decimal_places=AMPLITUDE_DECIMAL_PLACES
    )
    amplitude_unit = models.CharField(max_length=2, choices=AmplitudeUnit.choices)
    pulse_width_us = models.PositiveSmallIntegerField("Pulse width (µs)")
    frequency_hz = models.DecimalField(
        "Frequency (Hz)", max_digits=FREQUENCY_MAX_DIGITS, decimal_places=FREQUENCY_DECIMAL_PLACES
    )
    impedances = models.JSONField(default=dict, blank=True, help_text="Ohms by active contact.")
    charge_density = models.JSONField(
        default=dict, blank=True, help_text="µC/cm²/phase by active contact (the core's)."
    )
    charge_density_warning = models.TextField(blank=True)

    class Meta:
        verbose_name = "DBS setting"
        ordering = ("lead__hemisphere", "pk")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("programming", "lead"), name="dbs_one_setting_per_lead"
            ),
            models.CheckConstraint(
                condition=models.Q(amplitude__gte=0), name="dbs_amplitude_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(pulse_width_us__gt=0), name="dbs_pulse_width_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency_hz__gt=0), name="dbs_frequency_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amplitude} {self.amplitude_unit}, {self.pulse_width_us} µs"
