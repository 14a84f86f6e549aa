"""One call from findings to everything a clinician reads: classification, codes, work-up and
pathway, and its JSON document (schemas/classification.schema.json)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dystonia.anatomy import DEFAULT_ADJACENCY, Adjacency, bfmdrs_region
from dystonia.classification import Classification, classify
from dystonia.coding import Code, codes_for
from dystonia.findings import Findings
from dystonia.pathway import Pathway, pathway_for
from dystonia.workup import Workup, workup_for


@dataclass(frozen=True)
class Assessment:
    """The classification of one case with its codes, work-up and treatment pathway."""

    findings: Findings
    classification: Classification
    codes: tuple[Code, ...]
    workup: Workup
    pathway: Pathway


def assess(findings: Findings, *, adjacency: Adjacency = DEFAULT_ADJACENCY) -> Assessment:
    """Classify, code, and advise on work-up and treatment."""
    classification = classify(findings, adjacency=adjacency)
    return Assessment(
        findings=findings,
        classification=classification,
        codes=codes_for(classification),
        workup=workup_for(findings, classification),
        pathway=pathway_for(findings, classification),
    )


def _sorted_values(values: frozenset[Any]) -> list[str]:
    return sorted(value.value for value in values)


def assessment_document(assessment: Assessment) -> dict[str, Any]:
    """The assessment as a JSON-ready document."""
    c = assessment.classification
    findings = assessment.findings
    return {
        "classification_version": c.classification_version,
        "age_at_onset_years": findings.age_at_onset_years,
        "age_at_onset_band": c.age_at_onset_band.value,
        "regions": [
            {"region": s.region.value, "side": s.side.value if s.side else None}
            for s in sorted(findings.regions)
        ],
        "bfmdrs_regions": sorted({bfmdrs_region(site).value for site in findings.regions}),
        "distribution": c.distribution.value,
        "leg_involvement": c.leg_involvement,
        "course": c.temporal.course.value if c.temporal.course else None,
        "variability": _sorted_values(c.temporal.variability),
        "isolated": c.isolated,
        "combined": c.associated.combined,
        "associated_features": {
            "movement_disorders": _sorted_values(c.associated.movement_disorders),
            "motor_signs": _sorted_values(c.associated.motor_signs),
            "neurological": _sorted_values(c.associated.neurological),
            "systemic": _sorted_values(c.associated.systemic),
        },
        "etiology": {
            "nervous_system_pathology": (
                c.axis_ii.nervous_system_pathology.value
                if c.axis_ii.nervous_system_pathology
                else None
            ),
            "category": c.axis_ii.category.value,
            "idiopathic_kind": c.axis_ii.idiopathic_kind.value
            if c.axis_ii.idiopathic_kind
            else None,
            "inheritance": c.axis_ii.inheritance.value if c.axis_ii.inheritance else None,
            "gene": c.axis_ii.gene,
            "acquired_cause": c.axis_ii.acquired_cause.value if c.axis_ii.acquired_cause else None,
        },
        "forms": [result.form.value for result in c.forms],
        "form_details": [
            {"form": r.form.value, "label": r.form.label, "suspected": r.suspected} for r in c.forms
        ],
        "codes": [code.as_dict() for code in assessment.codes],
        "red_flags": [
            {"flag": f.flag.value, "text": f.text, "source": f.source}
            for f in assessment.workup.red_flags
        ],
        "workup": {
            "items": [
                {
                    "id": item.id,
                    "title": item.title,
                    "reason": item.reason,
                    "investigations": [
                        {"name": i.name, "interpretation": i.interpretation, "source": i.source}
                        for i in item.investigations
                    ],
                }
                for item in assessment.workup.items
            ],
            "note": assessment.workup.note,
        },
        "pathway": {
            "steps": [
                {
                    "treatment": step.treatment.value,
                    "line": step.line.value,
                    "text": step.text,
                    "source": step.source,
                }
                for step in assessment.pathway.steps
            ],
            "note": assessment.pathway.note,
        },
        "reasons": [reason.as_dict() for reason in c.reasons],
    }
