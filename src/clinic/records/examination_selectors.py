"""Reads of the examination and its classification, for clinicians only: the encounter page's
section, the examination form, the decision page. Each checks access, uses a fixed number of
queries, and audits what it shows (no clinical content in the entry)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record
from clinic.records.access import Access
from clinic.records.classification import (
    FINDINGS_CHANGED,
    NOT_CLASSIFIED_YET,
    ReviewNotFound,
    current_review,
    document_from,
    missing_from,
    record_inputs,
)
from clinic.records.encounters import check_clinician, may_use_encounters
from clinic.records.examination import FEATURE_LABELS, SITES, SITES_BY_KEY, Site, found_encounter
from clinic.records.examination import site_key as key_of
from clinic.records.models import (
    ClassificationReview,
    Encounter,
    Examination,
    RegionFinding,
    ReviewDecision,
)
from clinic.records.models.examination import DISTRIBUTION_CHOICES
from dystonia.coding import CodeSystem

_audit = partial(audit_object, object_type="examination")
_audit_review = partial(audit_object, object_type="classification_review")

# Display names of the code systems (dystonia.coding.CodeSystem holds their URIs).
SYSTEM_NAMES = {
    CodeSystem.ICD10.value: "ICD-10",
    CodeSystem.ICD10_CM.value: "ICD-10-CM",
    CodeSystem.ICD11_MMS.value: "ICD-11",
    CodeSystem.SNOMED_CT.value: "SNOMED CT",
}
DISTRIBUTION_LABELS = dict(DISTRIBUTION_CHOICES)


@dataclass(frozen=True)
class RegionLine:
    """An involved site with what was seen there."""

    site: Site
    finding: RegionFinding


@dataclass(frozen=True)
class FormLine:
    label: str
    suspected: bool


@dataclass(frozen=True)
class CodeLine:
    system: str
    code: str
    display: str


@dataclass(frozen=True)
class ReasonLine:
    text: str
    source: str


@dataclass(frozen=True)
class ClassificationPanel:
    """The core's classification as stored in a review, ready to read, and the decision."""

    review: ClassificationReview
    distribution: str
    age_at_onset_years: object
    age_band: str
    motor: str
    etiology: str
    forms: list[FormLine]
    codes: list[CodeLine]
    red_flags: list[str]
    reasons: list[ReasonLine]

    @property
    def pending(self) -> bool:
        return self.review.decision == ReviewDecision.PENDING

    @property
    def clinician_distribution(self) -> str:
        return DISTRIBUTION_LABELS.get(self.review.clinician_distribution, "")


@dataclass(frozen=True)
class ExaminationSection:
    """The examination of one encounter and, beside it, its classification (``panel``), or
    what is missing for one (``missing``), or a note that the findings changed since."""

    encounter: Encounter
    examination: Examination | None
    regions: list[RegionLine]
    features: list[str]
    panel: ClassificationPanel | None
    missing: list[str]
    changed: str
    can_edit: bool

    @property
    def involved_keys(self) -> set[str]:
        return {line.site.key for line in self.regions}


def _words(value: object) -> str:
    return str(value or "").replace("_", " ")


def _sentence(text: object) -> str:
    words = str(text or "").strip()
    if not words:
        return ""
    words = words[0].upper() + words[1:]
    return words if words.endswith(".") else words + "."


def _list(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _etiology(etiology: object) -> str:
    if not isinstance(etiology, dict):
        return ""
    parts = [
        _words(etiology.get("category")),
        _words(etiology.get("idiopathic_kind")),
        _words(etiology.get("inheritance")),
        _words(etiology.get("acquired_cause")),
    ]
    return " ".join(part for part in parts if part)


def _motor(assessment: dict[str, Any]) -> str:
    if assessment.get("isolated"):
        return "isolated"
    return "combined" if assessment.get("combined") else "not isolated"


def panel_of(review: ClassificationReview) -> ClassificationPanel:
    """The readable parts of a review's assessment document (dystonia.assessment)."""
    assessment = review.assessment if isinstance(review.assessment, dict) else {}
    return ClassificationPanel(
        review=review,
        distribution=DISTRIBUTION_LABELS.get(review.distribution, review.distribution),
        age_at_onset_years=assessment.get("age_at_onset_years"),
        age_band=_words(assessment.get("age_at_onset_band")),
        motor=_motor(assessment),
        etiology=_etiology(assessment.get("etiology")),
        forms=[
            FormLine(label=str(item.get("label", "")), suspected=bool(item.get("suspected")))
            for item in _list(assessment.get("form_details"))
        ],
        codes=[
            CodeLine(
                system=SYSTEM_NAMES.get(str(item.get("system")), str(item.get("system", ""))),
                code=str(item.get("code", "")),
                display=str(item.get("display", "")),
            )
            for item in _list(assessment.get("codes"))
        ],
        red_flags=[_sentence(item.get("text")) for item in _list(assessment.get("red_flags"))],
        reasons=[
            ReasonLine(text=_sentence(item.get("text")), source=str(item.get("source", "")))
            for item in _list(assessment.get("reasons"))
        ],
    )


def _section(encounter: Encounter, user: Any) -> ExaminationSection:
    """Six queries: the history, examination, regions, relatives, drug history and the
    current review."""
    inputs = record_inputs(encounter)
    order = {site.key: index for index, site in enumerate(SITES)}
    regions = sorted(
        (
            RegionLine(site=SITES_BY_KEY[key_of(f.region, f.side)], finding=f)
            for f in inputs.regions
            if key_of(f.region, f.side) in SITES_BY_KEY
        ),
        key=lambda line: order[line.site.key],
    )
    stored = inputs.examination.associated_features if inputs.examination else []
    features = [FEATURE_LABELS.get(f, _words(f)) for f in stored if isinstance(f, str)]
    missing = missing_from(inputs)
    review = current_review(encounter.pk) if not missing else None
    # A signed encounter shows the review it was signed with (its reviews never change, while
    # the relatives and drug history the document is rebuilt from may have since), and never
    # asks for a save it would refuse.
    current = encounter.is_signed or (
        review is not None and review.findings == document_from(inputs)
    )
    changed = ""
    if not missing and not current:
        changed = FINDINGS_CHANGED if review is not None else NOT_CLASSIFIED_YET
    return ExaminationSection(
        encounter=encounter,
        examination=inputs.examination,
        regions=regions,
        features=features,
        panel=panel_of(review) if review is not None and current else None,
        missing=missing,
        changed=changed,
        can_edit=not encounter.is_signed and encounter.clinician_id == getattr(user, "pk", None),
    )


def examination_section(
    *, context: AuditContext, encounter: Encounter
) -> ExaminationSection | None:
    """The encounter page's section (the encounter was read through
    encounter_selectors.encounter_for_clinician): None for anyone but a clinician."""
    if not may_use_encounters(context.actor, encounter.patient, Access.READ):
        return None
    section = _section(encounter, context.actor)
    detail = f"examination and classification of encounter {encounter.pk} read"
    _audit(context, AuditAction.READ, section.examination, encounter.patient, detail)
    return section


def examination_for_edit(*, context: AuditContext, encounter_id: int) -> ExaminationSection:
    """The examination form's encounter and what is saved (clinicians; whether they may save
    is the service's to decide). Raises EncounterNotFound or AccessRefused, audited."""
    encounter, _clinician = found_encounter(context, encounter_id, AuditAction.READ)
    encounter = Encounter.objects.select_related("patient", "clinician", "site").get(
        pk=encounter.pk
    )
    section = _section(encounter, context.actor)
    detail = f"examination of encounter {encounter.pk} read for editing"
    _audit(context, AuditAction.READ, section.examination, encounter.patient, detail)
    return section


def section_for_review(*, context: AuditContext, review_id: int) -> ExaminationSection:
    """The section of the encounter a review belongs to (the decision page). Raises
    ReviewNotFound or AccessRefused, both audited."""
    review = (
        ClassificationReview.objects.select_related(
            "encounter__patient", "encounter__clinician", "encounter__site"
        )
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="classification_review",
            object_id=review_id,
            detail="no such classification review",
        )
        raise ReviewNotFound
    encounter = review.encounter
    check_clinician(context, encounter.patient, AuditAction.READ, encounter)
    section = _section(encounter, context.actor)
    detail = f"classification review {review.pk} read"
    audit_object(
        context,
        AuditAction.READ,
        review,
        encounter.patient,
        detail,
        object_type="classification_review",
    )
    return section
