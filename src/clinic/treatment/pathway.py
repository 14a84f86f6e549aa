"""The pathway advisor on the patient's treatment page: the core's treatment options for the
patient's classified case (dystonia.pathway.pathway_for), beside what the record shows was
tried. Advice only; the treating clinician decides.

The case is the latest decided classification (confirmed or overridden) that is still the
current review of its encounter: a decision set aside by later findings is not used. Confirmed:
the core's classification of those findings. Overridden: the clinician's distribution, with the
named forms the core finds for that distribution (dystonia.classification.forms.named_forms),
since the core's own forms came from the distribution the clinician rejected; the panel says so.
No rule is re-implemented here: the core decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import Exists, OuterRef, Q

from clinic.records.diagnoses import distribution_label
from clinic.records.models import ClassificationReview, Patient, ReviewDecision
from clinic.treatment.models import Discipline, ProcedureKind
from dystonia.classification import Classification, Distribution, classify
from dystonia.classification.forms import named_forms
from dystonia.errors import InvalidDocument
from dystonia.findings import Findings, findings_from_document
from dystonia.pathway import Line, PathwayStep, Treatment, pathway_for

LINE_LABELS = {
    Line.FIRST_LINE: "First line",
    Line.EFFECTIVE: "Effective",
    Line.SECOND_LINE: "Second line",
    Line.SUPPORTIVE: "Supportive",
    Line.REFRACTORY: "When others fail",
}
TREATMENT_LABELS = {
    Treatment.LEVODOPA_TRIAL: "Levodopa trial",
    Treatment.LEVODOPA: "Levodopa",
    Treatment.BOTULINUM_TOXIN: "Botulinum toxin",
    Treatment.TRIHEXYPHENIDYL: "Trihexyphenidyl",
    Treatment.BACLOFEN: "Baclofen",
    Treatment.CLONAZEPAM: "Clonazepam",
    Treatment.TETRABENAZINE: "Tetrabenazine",
    Treatment.PHYSIOTHERAPY: "Physiotherapy",
    Treatment.SPEECH_THERAPY: "Speech and language therapy",
    Treatment.DEEP_BRAIN_STIMULATION: "Deep brain stimulation",
    Treatment.SELECTIVE_PERIPHERAL_DENERVATION: "Selective peripheral denervation",
}
# A medicine is matched to a pathway option by a word of its name: the generic names the core
# uses (dystonia.pathway.Treatment). Botulinum toxin injections are recorded by the toxin
# clinic, which does not exist yet, so the panel cannot show them as tried.
MEDICINE_WORDS = {
    "levodopa": (Treatment.LEVODOPA, Treatment.LEVODOPA_TRIAL),
    "trihexyphenidyl": (Treatment.TRIHEXYPHENIDYL,),
    "baclofen": (Treatment.BACLOFEN,),
    "clonazepam": (Treatment.CLONAZEPAM,),
    "tetrabenazine": (Treatment.TETRABENAZINE,),
}
DISCIPLINES = {
    Discipline.PHYSIOTHERAPY: Treatment.PHYSIOTHERAPY,
    Discipline.SPEECH_AND_LANGUAGE: Treatment.SPEECH_THERAPY,
}
NO_CLASSIFICATION = (
    "No confirmed or overridden classification yet: decide the classification at an encounter "
    "to see the treatment options."
)
UNREADABLE = "The decided classification's findings cannot be read by the core any more."
OVERRIDDEN_NOTE = (
    "The classification was overridden: the options are for the clinician's distribution "
    "({distribution}), with the named forms the core finds for it."
)


@dataclass(frozen=True)
class PathwayRow:
    """One option, and what the record shows was tried of it."""

    step: PathwayStep
    line: str
    treatment: str
    tried: list[str]


@dataclass(frozen=True)
class PathwayPanel:
    """The options for the case, or ``message`` when there is none to show."""

    rows: list[PathwayRow]
    note: str
    message: str = ""
    review: ClassificationReview | None = None
    distribution: str = ""
    overridden_note: str = ""


@dataclass(frozen=True)
class Tried:
    """A treatment the record holds, as the panel says it."""

    treatment: Treatment
    text: str


def latest_decided_review(patient: Patient) -> ClassificationReview | None:
    """The newest decided review that is still the current review of its encounter (one
    query)."""
    newer = ClassificationReview.objects.filter(encounter_id=OuterRef("encounter_id")).filter(
        Q(created_at__gt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
    )
    return (
        ClassificationReview.objects.filter(encounter__patient=patient)
        .select_related("encounter")
        .exclude(decision=ReviewDecision.PENDING)
        .exclude(Exists(newer))
        .order_by("-decided_at", "-pk")
        .first()
    )


def _classification(review: ClassificationReview, findings: Findings) -> Classification:
    core = classify(findings)
    if review.decision != ReviewDecision.OVERRIDDEN:
        return core
    distribution = Distribution(review.clinician_distribution)
    forms = tuple(named_forms(findings, band=core.age_at_onset_band, distribution=distribution))
    return replace(core, distribution=distribution, forms=forms)


def medicine_treatments(name: str) -> tuple[Treatment, ...]:
    """The pathway options a medicine's name names (none when it names none)."""
    words = {word.strip(".,()/").lower() for word in name.split()}
    found: list[Treatment] = []
    for word, treatments in MEDICINE_WORDS.items():
        if word in words:
            found.extend(treatments)
    return tuple(found)


def pathway_panel(patient: Patient, tried: list[Tried]) -> PathwayPanel:
    """The options for the patient's latest decided classification, each with what was tried
    (one query, for the review)."""
    review = latest_decided_review(patient)
    if review is None:
        return PathwayPanel(rows=[], note="", message=NO_CLASSIFICATION)
    try:
        findings = findings_from_document(review.findings)
    except InvalidDocument:
        return PathwayPanel(rows=[], note="", message=UNREADABLE, review=review)
    classification = _classification(review, findings)
    pathway = pathway_for(findings, classification)
    rows = [
        PathwayRow(
            step=step,
            line=LINE_LABELS.get(step.line, str(step.line)),
            treatment=TREATMENT_LABELS.get(step.treatment, str(step.treatment)),
            tried=[t.text for t in tried if t.treatment is step.treatment],
        )
        for step in pathway.steps
    ]
    label = distribution_label(classification.distribution)
    overridden = review.decision == ReviewDecision.OVERRIDDEN
    return PathwayPanel(
        rows=rows,
        note=pathway.note,
        review=review,
        distribution=label,
        overridden_note=OVERRIDDEN_NOTE.format(distribution=label.lower()) if overridden else "",
    )


def procedure_treatment(kind: str) -> Treatment | None:
    if kind == ProcedureKind.SELECTIVE_PERIPHERAL_DENERVATION:
        return Treatment.SELECTIVE_PERIPHERAL_DENERVATION
    return None
