"""The clinical record's models, one module per part (docs/clinical-record.md)."""

from clinic.records.models.diagnosis import (
    ClinicalStatus,
    Diagnosis,
    DiagnosisKind,
    DiagnosisSide,
    VerificationStatus,
)
from clinic.records.models.encounter import Addendum, Encounter, EncounterKind
from clinic.records.models.examination import (
    ClassificationReview,
    Examination,
    RegionFinding,
    ReviewDecision,
)
from clinic.records.models.history import DrugExposure, FamilyMember, History, Relationship
from clinic.records.models.investigation import (
    Investigation,
    InvestigationAttachment,
    InvestigationKind,
    InvestigationStatus,
    LevodopaResponse,
    ResultFlag,
    VariantClassification,
)
from clinic.records.models.letter import Letter, LetterStatus
from clinic.records.models.patient import (
    NAME_MAX_LENGTH,
    AlertKind,
    NextOfKin,
    Patient,
    PatientAlert,
    validate_nhs_number,
)

__all__ = [
    "NAME_MAX_LENGTH",
    "Addendum",
    "AlertKind",
    "ClassificationReview",
    "ClinicalStatus",
    "Diagnosis",
    "DiagnosisKind",
    "DiagnosisSide",
    "DrugExposure",
    "Encounter",
    "EncounterKind",
    "Examination",
    "FamilyMember",
    "History",
    "Investigation",
    "InvestigationAttachment",
    "InvestigationKind",
    "InvestigationStatus",
    "Letter",
    "LetterStatus",
    "LevodopaResponse",
    "NextOfKin",
    "Patient",
    "PatientAlert",
    "RegionFinding",
    "Relationship",
    "ResultFlag",
    "ReviewDecision",
    "VariantClassification",
    "VerificationStatus",
    "validate_nhs_number",
]
