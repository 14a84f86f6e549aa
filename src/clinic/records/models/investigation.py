"""Investigations of the work-up (FHIR ServiceRequest for the order, DiagnosticReport and
Observation for the result) and the reports attached to them (FHIR DocumentReference);
docs/clinical-record.md.

A laboratory result keeps the value as entered with its unit, the value in the analyte's one
canonical unit (dystonia.labs.units), the reference range used and the core's interpretation
as it read at the time. Attached reports are stored under a private root in var/, never under
MEDIA_ROOT or STATIC_ROOT, and have no URL: only a permission-checked, audited view serves
them.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import ClassVar

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models

from clinic.records.models.encounter import Encounter
from clinic.records.models.patient import Patient
from dystonia.labs import Analyte


class InvestigationKind(models.TextChoices):
    """What is ordered; the blood and urine tests are named as the core's analytes."""

    CAERULOPLASMIN = Analyte.CAERULOPLASMIN.value, "Serum caeruloplasmin"
    SERUM_COPPER = Analyte.SERUM_COPPER.value, "Serum copper"
    URINARY_COPPER_24H = Analyte.URINARY_COPPER_24H.value, "24-hour urine copper"
    SLIT_LAMP = "slit_lamp", "Slit-lamp examination"
    MRI = "mri", "MRI"
    CT = "ct", "CT"
    EMG = "emg", "EMG"
    GENETIC_PANEL = "genetic_panel", "Genetic panel"
    LEVODOPA_TRIAL = "levodopa_trial", "Levodopa trial"
    OTHER = "other", "Other investigation"


LAB_KINDS = (
    InvestigationKind.CAERULOPLASMIN,
    InvestigationKind.SERUM_COPPER,
    InvestigationKind.URINARY_COPPER_24H,
)
REPORT_KINDS = (
    InvestigationKind.MRI,
    InvestigationKind.CT,
    InvestigationKind.EMG,
    InvestigationKind.OTHER,
)


class InvestigationStatus(models.TextChoices):
    """FHIR ServiceRequest.status, in the unit's words (active, completed, revoked)."""

    ORDERED = "ordered", "Ordered"
    RESULTED = "resulted", "Resulted"
    CANCELLED = "cancelled", "Cancelled"


class ResultFlag(models.TextChoices):
    """dystonia.labs.Flag, as stored with a result."""

    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    NOT_FLAGGED = "not_flagged", "Not flagged"
    NOT_INTERPRETABLE = "not_interpretable", "Cannot be interpreted"


class VariantClassification(models.TextChoices):
    """The ACMG/AMP five-tier classification of a sequence variant."""

    PATHOGENIC = "pathogenic", "Pathogenic"
    LIKELY_PATHOGENIC = "likely_pathogenic", "Likely pathogenic"
    UNCERTAIN = "uncertain_significance", "Uncertain significance (VUS)"
    LIKELY_BENIGN = "likely_benign", "Likely benign"
    BENIGN = "benign", "Benign"


class LevodopaResponse(models.TextChoices):
    """The response seen in a levodopa trial, as the clinician judged it."""

    MARKED = "marked", "Marked and sustained"
    PARTIAL = "partial", "Partial"
    NONE = "none", "No response"
    UNCLEAR = "unclear", "Unclear"


def _shown(number: float) -> str:
    """A result as pages show it: four significant figures, no exponent for large values."""
    return f"{number:,.0f}" if abs(number) >= 10_000 else f"{number:.4g}"


def reports_root() -> Path:
    """Where attached reports are stored: settings.INVESTIGATION_REPORTS_ROOT, else
    var/private/investigation-reports (beside, never inside, var/media and var/static)."""
    configured = getattr(settings, "INVESTIGATION_REPORTS_ROOT", None)
    return Path(configured or Path(settings.VAR_DIR) / "private" / "investigation-reports")


class PrivateReportStorage(FileSystemStorage):
    """Files on disk under reports_root(), read afresh from settings, with no URL."""

    @property
    def base_location(self) -> str:
        return str(reports_root())

    @property
    def location(self) -> str:
        return str(reports_root().resolve())

    def url(self, name: str | None) -> str:
        raise ValueError("Investigation reports have no URL: they are served by a checked view.")


_REPORT_STORAGE = PrivateReportStorage()


def report_storage() -> Storage:
    """The attachments' storage (a callable, so migrations name it rather than copy it)."""
    return _REPORT_STORAGE


def _attachment_path(_instance: InvestigationAttachment, _filename: str) -> str:
    # A random name: the uploader's file name is never used on disk.
    return f"investigations/{uuid.uuid4().hex}"


class Investigation(models.Model):
    """One investigation ordered for a patient, and its result once it has one."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="investigations")
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="investigations"
    )
    kind = models.CharField(max_length=20, choices=InvestigationKind.choices)
    # What exactly was asked for ("MRI brain", "TOR1A (DYT1) testing"); required for "other".
    name = models.CharField(max_length=200, blank=True)
    # The work-up advice's item id (dystonia.workup.WorkupItem.id) when ordered from it.
    workup_item = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=10, choices=InvestigationStatus.choices, default=InvestigationStatus.ORDERED
    )
    ordered_on = models.DateField()
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(auto_now_add=True)
    cancelled_reason = models.CharField(max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    resulted_on = models.DateField(null=True, blank=True)
    resulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resulted_at = models.DateTimeField(null=True, blank=True)
    # Blood and urine tests: the value in the analyte's canonical unit, and as entered.
    value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=12, blank=True)
    entered_value = models.FloatField(null=True, blank=True)
    entered_unit = models.CharField(max_length=12, blank=True)
    # The range the result was read against (canonical unit): the laboratory's, else the
    # source's; none when neither gives one.
    reference_low = models.FloatField(null=True, blank=True)
    reference_high = models.FloatField(null=True, blank=True)
    reference_source = models.CharField(max_length=200, blank=True)
    # The core's reading (dystonia.labs.wilson), kept as it read when the result was recorded.
    flag = models.CharField(max_length=20, choices=ResultFlag.choices, blank=True)
    interpretation = models.TextField(blank=True)
    interpretation_source = models.CharField(max_length=500, blank=True)
    leipzig_points = models.PositiveSmallIntegerField(null=True, blank=True)
    # Slit-lamp examination.
    kf_rings = models.BooleanField("Kayser-Fleischer rings", null=True, blank=True)
    # Genetic panel: the gene, the variant in HGVS notation, its classification.
    gene = models.CharField(max_length=20, blank=True)
    variant = models.CharField(max_length=200, blank=True)
    variant_classification = models.CharField(
        max_length=24, choices=VariantClassification.choices, blank=True
    )
    # Levodopa trial.
    levodopa_dose_mg_per_day = models.PositiveIntegerField(null=True, blank=True)
    levodopa_duration_days = models.PositiveSmallIntegerField(null=True, blank=True)
    levodopa_response = models.CharField(
        max_length=10, choices=LevodopaResponse.choices, blank=True
    )
    # Imaging, EMG and other investigations: the report; for the others, comments.
    report = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-ordered_on", "-pk")
        indexes: ClassVar = [
            models.Index(fields=("patient", "ordered_on"), name="investigation_patient_date"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(status="resulted", resulted_on__isnull=False)
                | (~models.Q(status="resulted") & models.Q(resulted_on__isnull=True)),
                name="investigation_result_date_when_resulted",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | ~models.Q(cancelled_reason=""),
                name="investigation_cancelled_with_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(resulted_on__isnull=True)
                | models.Q(resulted_on__gte=models.F("ordered_on")),
                name="investigation_resulted_after_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(value__isnull=True)
                | models.Q(
                    value__gte=0, entered_value__gte=0, kind__in=[k.value for k in LAB_KINDS]
                ),
                name="investigation_value_of_a_lab_test_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="other") | ~models.Q(name=""),
                name="investigation_other_is_named",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()

    @property
    def is_lab(self) -> bool:
        return self.kind in LAB_KINDS

    @property
    def result_summary(self) -> str:
        """The result in one line as pages show it ("" until resulted; a report is shown on
        its own)."""
        if self.status != InvestigationStatus.RESULTED:
            return ""
        if self.value is not None and self.entered_value is not None:
            canonical = f"{_shown(self.value)} {self.unit}"
            entered = f"{_shown(self.entered_value)} {self.entered_unit}"
            return canonical if self.entered_unit == self.unit else f"{entered} ({canonical})"
        if self.kf_rings is not None:
            return f"Kayser-Fleischer rings {'present' if self.kf_rings else 'absent'}"
        return self._other_summary()

    def _other_summary(self) -> str:
        if self.kind == InvestigationKind.GENETIC_PANEL:
            if not self.variant:
                return "No variant recorded"
            return f"{self.gene} {self.variant}, {self.get_variant_classification_display()}"
        if self.levodopa_dose_mg_per_day is None:
            return ""
        response = self.get_levodopa_response_display().lower()
        days = self.levodopa_duration_days
        return f"{self.levodopa_dose_mg_per_day} mg a day for {days} days: {response}"

    @property
    def title(self) -> str:
        """How pages name it: the kind, with what exactly was asked for when given."""
        label = self.get_kind_display()
        if not self.name:
            return label
        return self.name if self.kind == InvestigationKind.OTHER else f"{label}: {self.name}"


class InvestigationAttachment(models.Model):
    """A report (PDF, PNG or JPEG) attached to an investigation, stored privately and served
    only through a view that checks permission and audits."""

    class ContentType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        PNG = "image/png", "PNG image"
        JPEG = "image/jpeg", "JPEG image"

    investigation = models.ForeignKey(
        Investigation, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(storage=report_storage, upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40, choices=ContentType.choices)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("uploaded_at", "pk")

    def __str__(self) -> str:
        return self.original_name
