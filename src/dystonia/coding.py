"""ICD-10 (WHO), ICD-10-CM, ICD-11 MMS and SNOMED CT codes for a classified case.

Only codes that shared/reference/clinical.md (section 2) or fhir.md (2.1) confirm are here;
the rest are left empty, never guessed. The WHO ICD-11 to ICD-10 crosswalk pairs 8A02.0 with
G24.0 (drug-induced), which is clinically wrong, so nothing here is crosswalked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dystonia import sources
from dystonia.classification import Classification, Distribution, EtiologyCategory, NamedForm
from dystonia.classification.axis2 import IdiopathicKind
from dystonia.errors import InvalidInput


class CodeSystem(StrEnum):
    """FHIR Coding.system URIs (shared/reference/fhir.md section 5)."""

    ICD10 = "http://hl7.org/fhir/sid/icd-10"
    ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
    ICD11_MMS = "http://id.who.int/icd/release/11/mms"
    SNOMED_CT = "http://snomed.info/sct"


@dataclass(frozen=True)
class Code:
    """One code in one system, what it applies to, and where it was confirmed."""

    system: CodeSystem
    code: str
    display: str
    source: str
    applies_to: str = ""

    def for_(self, applies_to: str) -> Code:
        return Code(self.system, self.code, self.display, self.source, applies_to)

    def as_dict(self) -> dict[str, str]:
        return {
            "system": self.system.value,
            "code": self.code,
            "display": self.display,
            "applies_to": self.applies_to,
            "source": self.source,
        }


_ICD10, _CM, _ICD11, _SCT = CodeSystem
_TAB = sources.ICD10_TABULAR
_WHO11 = sources.WHO_ICD11_MAP

DYSTONIA_CATEGORY = (
    Code(_SCT, "15802004", "Dystonia (disorder)", sources.SNOMED_SYNTHEA),
    Code(_ICD11, "8A02", "Dystonic disorders", _WHO11),
)

# Confirmed codes per named form; forms missing here have none confirmed (clinical.md 2).
FORM_CODES: dict[NamedForm, tuple[Code, ...]] = {
    NamedForm.CERVICAL_DYSTONIA: (
        Code(_ICD10, "G24.3", "Spasmodic torticollis", _TAB),
        Code(_CM, "G24.3", "Spasmodic torticollis", _TAB),
    ),
    NamedForm.BLEPHAROSPASM: (
        Code(_ICD10, "G24.5", "Blepharospasm", _WHO11),
        Code(_CM, "G24.5", "Blepharospasm", _TAB),
        Code(_ICD11, "8A02.00", "Benign essential blepharospasm", _WHO11),
    ),
    NamedForm.OROMANDIBULAR_DYSTONIA: (
        Code(_ICD10, "G24.4", "Idiopathic orofacial dystonia", _TAB),
        Code(_CM, "G24.4", "Idiopathic orofacial dystonia", _TAB),
    ),
    NamedForm.DRUG_INDUCED_DYSTONIA: (
        Code(_ICD10, "G24.0", "Drug-induced dystonia", _WHO11),
        Code(_ICD11, "8A02.10", "Drug-induced dystonia", _WHO11),
    ),
    NamedForm.FUNCTIONAL_DYSTONIA: (
        Code(_ICD10, "F44.4", "Dissociative motor disorders", _WHO11),
        Code(_CM, "F44.4", "Conversion disorder with motor symptom or deficit", _TAB),
        Code(_ICD11, "8A02.3", "Functional dystonia or spasms", _WHO11),
        Code(
            _ICD11, "6B60.83", "Dissociative neurological symptom disorder, with dystonia", _WHO11
        ),
    ),
}
# Confirmed forms whose own codes the reference leaves UNVERIFIED: no G24 code is guessed.
FORMS_WITH_UNVERIFIED_CODES = frozenset(
    {NamedForm.MYOCLONUS_DYSTONIA, NamedForm.DOPA_RESPONSIVE_DYSTONIA}
)

# Non-focal idiopathic, inherited or acquired dystonia without a form code of its own.
IDIOPATHIC_FAMILIAL = (
    Code(_ICD10, "G24.1", "Idiopathic familial dystonia", _TAB),
    Code(_CM, "G24.1", "Genetic torsion dystonia", _TAB),
)
IDIOPATHIC_NONFAMILIAL = (
    Code(_ICD10, "G24.2", "Idiopathic nonfamilial dystonia", _TAB),
    Code(_CM, "G24.2", "Idiopathic nonfamilial dystonia", _TAB),
)
OTHER_DYSTONIA = (
    Code(_ICD10, "G24.8", "Other dystonia", _TAB),
    Code(_CM, "G24.8", "Other dystonia", _TAB),
)


# Their titles say idiopathic or essential ("Idiopathic orofacial dystonia", "Benign essential
# blepharospasm"), and ICD-10-CM excludes drug-induced blepharospasm from G24.5: so these codes
# are for dystonia that is not acquired.
IDIOPATHIC_TITLED_FORMS = frozenset(
    {NamedForm.CERVICAL_DYSTONIA, NamedForm.BLEPHAROSPASM, NamedForm.OROMANDIBULAR_DYSTONIA}
)


def _etiology_codes(classification: Classification) -> tuple[Code, ...]:
    etiology = classification.axis_ii
    if etiology.category is EtiologyCategory.ACQUIRED:
        return OTHER_DYSTONIA
    if etiology.category is EtiologyCategory.INHERITED:
        return IDIOPATHIC_FAMILIAL
    if etiology.idiopathic_kind is IdiopathicKind.FAMILIAL:
        return IDIOPATHIC_FAMILIAL
    return IDIOPATHIC_NONFAMILIAL


def codes_for(classification: Classification) -> tuple[Code, ...]:
    """The confirmed codes for a classified case.

    Confirmed (not suspected) named forms carry their own codes, the idiopathic-titled ones
    only when the dystonia is not acquired. Then, if no ICD-10 code applies yet, acquired
    dystonia gets G24.8 and non-focal idiopathic or inherited dystonia G24.1 or G24.2, unless
    a confirmed form's own code is unverified (then nothing is guessed). Every dystonia gets
    the category codes, except a functional one.
    """
    codes: list[Code] = []
    acquired = classification.axis_ii.category is EtiologyCategory.ACQUIRED
    confirmed = [result.form for result in classification.forms if not result.suspected]
    for form in confirmed:
        if acquired and form in IDIOPATHIC_TITLED_FORMS:
            continue
        codes.extend(code.for_(form.value) for code in FORM_CODES.get(form, ()))
    has_icd10 = any(code.system is CodeSystem.ICD10 for code in codes)
    needs_etiology_code = acquired or classification.distribution is not Distribution.FOCAL
    unverified = FORMS_WITH_UNVERIFIED_CODES.intersection(confirmed)
    if needs_etiology_code and not has_icd10 and not unverified:
        label = f"{classification.axis_ii.category.value} {classification.distribution.value}"
        codes.extend(code.for_(label) for code in _etiology_codes(classification))
    if NamedForm.FUNCTIONAL_DYSTONIA not in confirmed:
        codes.extend(code.for_("dystonia") for code in DYSTONIA_CATEGORY)
    return tuple(codes)


HEMIFACIAL_SPASM_CM_BY_SIDE = {
    "right": "G51.31",
    "left": "G51.32",
    "bilateral": "G51.33",
    None: "G51.39",
}


def hemifacial_spasm_codes(*, side: str | None) -> tuple[Code, ...]:
    """Codes for hemifacial spasm, a facial-nerve disorder and not a dystonia; a clinician
    chooses this diagnosis, it is never derived from regions (clinical.md 2).

    ``side``: ``"left"``, ``"right"``, ``"bilateral"`` or ``None`` (unspecified).
    """
    if side not in HEMIFACIAL_SPASM_CM_BY_SIDE:
        raise InvalidInput(field="side", value=side, allowed="left, right, bilateral or none")
    applies = "hemifacial_spasm"
    cm = HEMIFACIAL_SPASM_CM_BY_SIDE[side]
    cm_display = f"Clonic hemifacial spasm, {side or 'unspecified'}"
    return (
        Code(_ICD10, "G51.3", "Clonic hemifacial spasm", _WHO11, applies),
        Code(_CM, cm, cm_display, sources.HCCBUDDY_CM, applies),
        Code(_ICD11, "8B88.2", "Hemifacial spasm", _WHO11, applies),
        Code(_SCT, "13753008", "Hemifacial spasm", sources.VISUALDX_HFS, applies),
    )
