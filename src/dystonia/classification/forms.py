"""The named forms that apply to a case (shared/reference/clinical.md section 2 and 3.3).

Hemifacial spasm is not a dystonia and is never derived here: a clinician diagnoses it
separately (dystonia.coding.hemifacial_spasm_codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dystonia import sources
from dystonia.anatomy import Region
from dystonia.classification.age import AgeBand
from dystonia.classification.distribution import Distribution
from dystonia.classification.reasons import Reason
from dystonia.findings import AcquiredCause, AssociatedFeature, Findings, Variability


class NamedForm(StrEnum):
    """A named form of dystonia the unit recognises."""

    CERVICAL_DYSTONIA = "cervical_dystonia"
    BLEPHAROSPASM = "blepharospasm"
    OROMANDIBULAR_DYSTONIA = "oromandibular_dystonia"
    CRANIAL_DYSTONIA = "cranial_dystonia"
    LARYNGEAL_DYSTONIA = "laryngeal_dystonia"
    WRITERS_CRAMP = "writers_cramp"
    TASK_SPECIFIC_DYSTONIA = "task_specific_dystonia"
    MYOCLONUS_DYSTONIA = "myoclonus_dystonia"
    DOPA_RESPONSIVE_DYSTONIA = "dopa_responsive_dystonia"
    DRUG_INDUCED_DYSTONIA = "drug_induced_dystonia"
    FUNCTIONAL_DYSTONIA = "functional_dystonia"

    @property
    def label(self) -> str:
        return FORM_LABELS[self]


FORM_LABELS = {
    NamedForm.CERVICAL_DYSTONIA: "Cervical dystonia (spasmodic torticollis)",
    NamedForm.BLEPHAROSPASM: "Blepharospasm",
    NamedForm.OROMANDIBULAR_DYSTONIA: "Oromandibular dystonia",
    NamedForm.CRANIAL_DYSTONIA: "Cranial dystonia (Meige syndrome)",
    NamedForm.LARYNGEAL_DYSTONIA: "Laryngeal dystonia (spasmodic dysphonia)",
    NamedForm.WRITERS_CRAMP: "Writer's cramp or other task-specific upper limb dystonia",
    NamedForm.TASK_SPECIFIC_DYSTONIA: "Task-specific dystonia (not of the upper limb)",
    NamedForm.MYOCLONUS_DYSTONIA: "Myoclonus-dystonia",
    NamedForm.DOPA_RESPONSIVE_DYSTONIA: "Dopa-responsive dystonia",
    NamedForm.DRUG_INDUCED_DYSTONIA: "Drug-induced dystonia",
    NamedForm.FUNCTIONAL_DYSTONIA: "Functional dystonia",
}

# Genes whose confirmation turns a suspected form into a confirmed one (clinical.md 3.6).
CONFIRMING_GENES = {
    NamedForm.MYOCLONUS_DYSTONIA: frozenset({"SGCE"}),
    NamedForm.DOPA_RESPONSIVE_DYSTONIA: frozenset({"GCH1", "TH"}),
}
CHILDHOOD_BANDS = frozenset({AgeBand.INFANCY, AgeBand.CHILDHOOD})


@dataclass(frozen=True)
class FormResult:
    """A named form that applies; ``suspected`` when the findings suggest but do not confirm."""

    form: NamedForm
    suspected: bool
    reason: Reason


def _form(form: NamedForm, text: str, source: str, *, suspected: bool = False) -> FormResult:
    prefix = "suspected " if suspected else ""
    return FormResult(form, suspected, Reason(f"form:{form.value}", prefix + text, source))


def _craniocervical_only(findings: Findings) -> bool:
    return all(site.region.is_cranial or site.region is Region.NECK for site in findings.regions)


def _region_forms(findings: Findings, distribution: Distribution) -> list[FormResult]:
    """Forms named after a region: for focal dystonia, and for segmental or multifocal
    dystonia confined to the cranial regions and neck (cranial and cranio-cervical)."""
    forms: list[FormResult] = []
    source = sources.ALBANESE_2013
    focal = distribution is Distribution.FOCAL
    if not (
        focal or (_craniocervical_only(findings) and distribution is not Distribution.GENERALIZED)
    ):
        return forms
    if findings.involves(Region.NECK):
        text = "cervical dystonia: the neck is involved"
        forms.append(_form(NamedForm.CERVICAL_DYSTONIA, text, source))
    eyes = findings.involves(Region.UPPER_FACE)
    mouth = findings.involves(Region.LOWER_FACE) or findings.involves(Region.JAW_TONGUE)
    if eyes:
        text = "blepharospasm: the upper face is involved"
        forms.append(_form(NamedForm.BLEPHAROSPASM, text, source))
    if mouth:
        text = "oromandibular dystonia: the lower face or jaw and tongue are involved"
        forms.append(_form(NamedForm.OROMANDIBULAR_DYSTONIA, text, source))
    if eyes and mouth:
        text = "cranial (Meige) dystonia: blepharospasm with oromandibular dystonia"
        forms.append(_form(NamedForm.CRANIAL_DYSTONIA, text, "Hassell & Charles, Toxins 2020"))
    if findings.involves(Region.LARYNX):
        text = "laryngeal dystonia: the larynx is involved"
        forms.append(_form(NamedForm.LARYNGEAL_DYSTONIA, text, source))
    if focal and Variability.ACTION_SPECIFIC in findings.variability:
        if findings.involves(Region.UPPER_LIMB):
            text = "writer's cramp or other task-specific dystonia: focal, action-specific arm"
            forms.append(_form(NamedForm.WRITERS_CRAMP, text, source))
        else:
            text = "task-specific dystonia: focal and action-specific, not of the arm"
            forms.append(_form(NamedForm.TASK_SPECIFIC_DYSTONIA, text, source))
    return forms


def _confirmed_by_gene(form: NamedForm, findings: Findings) -> bool:
    gene = (findings.etiology.gene or "").upper()
    return gene in CONFIRMING_GENES.get(form, frozenset())


def _other_cause_known(findings: Findings) -> bool:
    """A recorded cause other than dopa-responsive dystonia: an acquired cause, or a
    confirmed inheritance with a gene that is not GCH1 or TH."""
    etiology = findings.etiology
    if etiology.acquired_cause is not None:
        return True
    drd_genes = CONFIRMING_GENES[NamedForm.DOPA_RESPONSIVE_DYSTONIA]
    return etiology.inheritance is not None and (etiology.gene or "").upper() not in drd_genes


def _cause_forms(findings: Findings, band: AgeBand) -> list[FormResult]:
    forms: list[FormResult] = []
    if AssociatedFeature.MYOCLONUS in findings.associated_features:
        confirmed = _confirmed_by_gene(NamedForm.MYOCLONUS_DYSTONIA, findings)
        text = "myoclonus-dystonia: dystonia combined with myoclonus" + (
            " and SGCE confirmed" if confirmed else ""
        )
        source = f"{sources.ALBANESE_2013}; {sources.EFNS_2011}"
        forms.append(_form(NamedForm.MYOCLONUS_DYSTONIA, text, source, suspected=not confirmed))
    diurnal = Variability.DIURNAL in findings.variability
    # Involvement stands in for the site of onset, which the findings do not record.
    child_leg = band in CHILDHOOD_BANDS and findings.involves(Region.LOWER_LIMB)
    confirmed_drd = _confirmed_by_gene(NamedForm.DOPA_RESPONSIVE_DYSTONIA, findings)
    other_cause = _other_cause_known(findings)
    if confirmed_drd or ((diurnal or child_leg) and not other_cause):
        clues = [
            clue
            for clue, present in [
                ("diurnal fluctuation", diurnal),
                ("childhood onset in the leg", child_leg),
                (f"{findings.etiology.gene} confirmed", confirmed_drd),
            ]
            if present
        ]
        text = "dopa-responsive dystonia: " + " and ".join(clues)
        forms.append(
            _form(
                NamedForm.DOPA_RESPONSIVE_DYSTONIA,
                text,
                sources.GENEREVIEWS_GCH1,
                suspected=not confirmed_drd,
            )
        )
    drug_cause = findings.etiology.acquired_cause is AcquiredCause.DRUG
    if drug_cause or findings.drug_exposure:
        text = "drug-induced dystonia: " + (
            "a drug is the recorded cause"
            if drug_cause
            else "exposure to a dopamine-receptor-blocking drug is recorded"
        )
        source = f"{sources.ALBANESE_2013}; {sources.UPTODATE_RED_FLAGS}"
        forms.append(_form(NamedForm.DRUG_INDUCED_DYSTONIA, text, source, suspected=not drug_cause))
    if findings.etiology.acquired_cause is AcquiredCause.PSYCHOGENIC:
        text = "functional dystonia: a functional (psychogenic) cause is recorded"
        forms.append(_form(NamedForm.FUNCTIONAL_DYSTONIA, text, sources.ALBANESE_2013))
    return forms


def named_forms(
    findings: Findings, *, band: AgeBand, distribution: Distribution
) -> list[FormResult]:
    """Every named form that applies, in a stable order."""
    return _region_forms(findings, distribution) + _cause_forms(findings, band)
