"""Treatment options for a classified case, in order of escalation, each with its source
(shared/reference/clinical.md sections 5 and 6). Advice for the clinician, never an order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dystonia import sources
from dystonia.anatomy import Region
from dystonia.classification import Classification, Distribution, EtiologyCategory, NamedForm
from dystonia.findings import AssociatedFeature, Findings
from dystonia.workup import EARLY_ONSET_MAX_YEARS, cause_recorded


class Treatment(StrEnum):
    """A treatment the unit offers."""

    LEVODOPA_TRIAL = "levodopa_trial"
    LEVODOPA = "levodopa"
    BOTULINUM_TOXIN = "botulinum_toxin"
    TRIHEXYPHENIDYL = "trihexyphenidyl"
    BACLOFEN = "baclofen"
    CLONAZEPAM = "clonazepam"
    TETRABENAZINE = "tetrabenazine"
    PHYSIOTHERAPY = "physiotherapy"
    SPEECH_THERAPY = "speech_therapy"
    DEEP_BRAIN_STIMULATION = "deep_brain_stimulation"
    SELECTIVE_PERIPHERAL_DENERVATION = "selective_peripheral_denervation"


class Line(StrEnum):
    """Where an option stands; ``effective`` when the source shows benefit but names no line."""

    FIRST_LINE = "first_line"
    EFFECTIVE = "effective"
    SECOND_LINE = "second_line"
    SUPPORTIVE = "supportive"
    REFRACTORY = "refractory"


@dataclass(frozen=True)
class PathwayStep:
    """One option: its place in the escalation, why it fits this case, and the source."""

    treatment: Treatment
    line: Line
    text: str
    source: str


@dataclass(frozen=True)
class Pathway:
    """The ordered options, and a note when the reference gives none."""

    steps: tuple[PathwayStep, ...]
    note: str


# Escalation: by line first, then by the treatment's usual place within that line.
LINE_ORDER = tuple(Line)
ESCALATION_ORDER = tuple(Treatment)
# EFNS 2011: first-line for cranial (blepharospasm, not oromandibular) and cervical dystonia.
TOXIN_FIRST_LINE = frozenset({NamedForm.CERVICAL_DYSTONIA, NamedForm.BLEPHAROSPASM})
SPEECH_REGIONS = frozenset({Region.LARYNX, Region.JAW_TONGUE, Region.LOWER_FACE})


def _toxin(classification: Classification) -> PathwayStep | None:
    if classification.distribution not in {Distribution.FOCAL, Distribution.SEGMENTAL}:
        return None
    forms = set(classification.form_ids)
    first = forms & TOXIN_FIRST_LINE
    if first:
        names = " and ".join(sorted(form.value.replace("_", " ") for form in first))
        text = f"botulinum toxin A is first-line for {names}"
        if NamedForm.CERVICAL_DYSTONIA in first:
            text += "; toxin B is non-inferior in cervical dystonia"
        if NamedForm.OROMANDIBULAR_DYSTONIA in forms:
            text += "; EFNS 2011 excludes oromandibular dystonia from the first-line advice"
        return PathwayStep(Treatment.BOTULINUM_TOXIN, Line.FIRST_LINE, text, sources.EFNS_2011)
    if NamedForm.WRITERS_CRAMP in forms:
        text = "botulinum toxin is effective for writer's cramp (no line of treatment is named)"
        return PathwayStep(Treatment.BOTULINUM_TOXIN, Line.EFFECTIVE, text, sources.EFNS_2011)
    if NamedForm.OROMANDIBULAR_DYSTONIA in forms:
        text = "botulinum toxin is an option; EFNS 2011 does not name it first-line for "
        text += "oromandibular dystonia"
    elif NamedForm.LARYNGEAL_DYSTONIA in forms:
        text = "botulinum toxin is an option; EFNS 2011 names it first-line for cranial "
        text += "dystonia other than oromandibular, and the reference does not say whether "
        text += "that includes laryngeal dystonia"
    else:
        text = "botulinum toxin where the muscles can be targeted; the reference names no "
        text += "line of treatment for this distribution"
    return PathwayStep(Treatment.BOTULINUM_TOXIN, Line.SECOND_LINE, text, sources.EFNS_2011)


def _oral(findings: Findings, classification: Classification) -> list[PathwayStep]:
    steps: list[PathwayStep] = []
    young = findings.age_at_onset_years <= EARLY_ONSET_MAX_YEARS
    generalized = classification.distribution is Distribution.GENERALIZED
    line = Line.FIRST_LINE if young or generalized else Line.SECOND_LINE
    if line is Line.FIRST_LINE:
        text = "first-line oral treatment in young people and generalized dystonia; "
    else:
        text = "oral option; the first-line oral treatment in young people and generalized "
        text += "dystonia; "
    text += "start low, go slow (dry mouth, blurred vision, forgetfulness)"
    source = f"{sources.BURKE_1986}; {sources.J_CLIN_MOV_DISORD_2016}"
    steps.append(PathwayStep(Treatment.TRIHEXYPHENIDYL, line, text, source))
    if young or generalized:
        text = "second-line, in children and generalized dystonia (sedation, hypotonia)"
        steps.append(
            PathwayStep(Treatment.BACLOFEN, Line.SECOND_LINE, text, sources.J_CLIN_MOV_DISORD_2016)
        )
    if AssociatedFeature.MYOCLONUS in findings.associated_features:
        text = "second-line, useful where myoclonus coexists; taper on withdrawal"
        steps.append(
            PathwayStep(
                Treatment.CLONAZEPAM, Line.SECOND_LINE, text, sources.J_CLIN_MOV_DISORD_2016
            )
        )
    drug = next(
        (r for r in classification.forms if r.form is NamedForm.DRUG_INDUCED_DYSTONIA), None
    )
    if drug is not None:
        text = "may be first-line in tardive dystonia (delayed and persistent), with clozapine "
        text += "the alternative; not for acute drug-induced reactions"
        line = Line.SECOND_LINE if drug.suspected else Line.FIRST_LINE
        if drug.suspected:
            text += "; the drug cause is only suspected"
        steps.append(
            PathwayStep(Treatment.TETRABENAZINE, line, text, sources.J_CLIN_MOV_DISORD_2016)
        )
    return steps


def _surgery(classification: Classification) -> list[PathwayStep]:
    steps: list[PathwayStep] = []
    forms = set(classification.form_ids)
    cervical = NamedForm.CERVICAL_DYSTONIA in forms
    dbs_distribution = classification.distribution in {
        Distribution.GENERALIZED,
        Distribution.SEGMENTAL,
    }
    if classification.isolated and (dbs_distribution or cervical):
        text = (
            "bilateral GPi stimulation when medication and botulinum toxin fail, for isolated "
            "generalized, segmental or cervical dystonia; benefit builds over weeks to months"
        )
        if classification.axis_ii.category is EtiologyCategory.ACQUIRED:
            text += "; less effective in acquired dystonia"
        steps.append(
            PathwayStep(Treatment.DEEP_BRAIN_STIMULATION, Line.REFRACTORY, text, sources.EFNS_2011)
        )
    focal_cervical = cervical and classification.distribution is Distribution.FOCAL
    if focal_cervical:
        text = (
            "for cervical dystonia (mainly rotational) failing botulinum toxin, best in "
            "secondary non-responders; poorer results in primary non-responders"
        )
        steps.append(
            PathwayStep(
                Treatment.SELECTIVE_PERIPHERAL_DENERVATION,
                Line.REFRACTORY,
                text,
                sources.NEUROSURGERY_1994,
            )
        )
    return steps


def pathway_for(findings: Findings, classification: Classification) -> Pathway:
    """The treatment options for a classified case, ordered by escalation."""
    if NamedForm.FUNCTIONAL_DYSTONIA in classification.form_ids:
        note = "The reference gives no treatment pathway for functional dystonia."
        return Pathway(steps=(), note=note)
    steps: list[PathwayStep] = []
    drd = next(
        (r for r in classification.forms if r.form is NamedForm.DOPA_RESPONSIVE_DYSTONIA), None
    )
    early = findings.age_at_onset_years <= EARLY_ONSET_MAX_YEARS
    source = f"{sources.EFNS_2011}; {sources.GENEREVIEWS_GCH1}"
    if drd is not None and not drd.suspected:
        text = "levodopa: confirmed dopa-responsive dystonia responds dramatically and durably "
        text += "to low doses; titrate slowly"
        steps.append(PathwayStep(Treatment.LEVODOPA, Line.FIRST_LINE, text, source))
    elif (early or drd is not None) and not cause_recorded(findings):
        text = "diagnostic and therapeutic levodopa trial in early-onset dystonia without an "
        text += "alternative diagnosis"
        steps.append(PathwayStep(Treatment.LEVODOPA_TRIAL, Line.FIRST_LINE, text, source))
    toxin = _toxin(classification)
    if toxin is not None:
        steps.append(toxin)
    steps.extend(_oral(findings, classification))
    text = "physiotherapy for posture and movement, alongside other treatment"
    steps.append(
        PathwayStep(Treatment.PHYSIOTHERAPY, Line.SUPPORTIVE, text, sources.PROJECT_DECISION)
    )
    if any(site.region in SPEECH_REGIONS for site in findings.regions):
        text = "speech and language therapy for speech, voice, chewing and swallowing"
        steps.append(
            PathwayStep(Treatment.SPEECH_THERAPY, Line.SUPPORTIVE, text, sources.PROJECT_DECISION)
        )
    steps.extend(_surgery(classification))
    ordered = sorted(
        steps, key=lambda s: (LINE_ORDER.index(s.line), ESCALATION_ORDER.index(s.treatment))
    )
    return Pathway(steps=tuple(ordered), note="Advice only: the treating clinician decides.")
