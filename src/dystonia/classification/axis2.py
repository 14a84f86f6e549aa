"""Axis II: etiology (Albanese 2013; clinical.md 1.7)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dystonia import sources
from dystonia.classification.reasons import Reason
from dystonia.findings import AcquiredCause, Findings, Inheritance, NervousSystemPathology


class EtiologyCategory(StrEnum):
    """Inherited (genetically confirmed), acquired, or idiopathic."""

    INHERITED = "inherited"
    ACQUIRED = "acquired"
    IDIOPATHIC = "idiopathic"


class IdiopathicKind(StrEnum):
    """Idiopathic dystonia is sporadic or familial."""

    SPORADIC = "sporadic"
    FAMILIAL = "familial"


@dataclass(frozen=True)
class AxisII:
    """Axis II as far as the findings tell it."""

    nervous_system_pathology: NervousSystemPathology | None
    category: EtiologyCategory
    inheritance: Inheritance | None
    gene: str | None
    acquired_cause: AcquiredCause | None
    idiopathic_kind: IdiopathicKind | None


def axis_ii(findings: Findings) -> tuple[AxisII, list[Reason]]:
    """Axis II from the etiology facts; a family history alone is idiopathic familial, since
    the inherited category needs genetic confirmation."""
    etiology = findings.etiology
    reasons: list[Reason] = []
    pathology = etiology.nervous_system_pathology
    pathology_text = pathology.value.replace("_", " ") if pathology else "not recorded"
    reasons.append(
        Reason(
            "nervous_system_pathology",
            f"nervous system pathology: {pathology_text}",
            sources.ALBANESE_2013,
        )
    )
    idiopathic_kind = None
    if etiology.inheritance is not None:
        category = EtiologyCategory.INHERITED
        gene = f" ({etiology.gene})" if etiology.gene else ""
        mode = etiology.inheritance.value.replace("_", " ")
        text = f"inherited: {mode}{gene}, genetically confirmed"
    elif etiology.acquired_cause is not None:
        category = EtiologyCategory.ACQUIRED
        text = f"acquired: {etiology.acquired_cause.value.replace('_', ' ')}"
    else:
        category = EtiologyCategory.IDIOPATHIC
        idiopathic_kind = (
            IdiopathicKind.FAMILIAL if findings.family_history else IdiopathicKind.SPORADIC
        )
        text = f"idiopathic {idiopathic_kind.value}: no inherited or acquired cause recorded"
        if findings.family_history:
            text += ", and a relative has dystonia"
        if findings.drug_exposure:
            text += (
                "; exposure to a dopamine-receptor blocker is recorded, so a drug-induced "
                "(acquired) cause is suspected"
            )
    reasons.append(Reason("etiology", text, sources.ALBANESE_2013))
    result = AxisII(
        nervous_system_pathology=pathology,
        category=category,
        inheritance=etiology.inheritance,
        gene=etiology.gene,
        acquired_cause=etiology.acquired_cause,
        idiopathic_kind=idiopathic_kind,
    )
    return result, reasons
