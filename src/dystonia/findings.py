"""Examination and history findings, the input to classification, and their validation.

:func:`findings_from_document` turns a JSON-like mapping into :class:`Findings`, listing every
problem at once (:class:`~dystonia.errors.InvalidDocument`), each naming its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from dystonia.anatomy import BodySite, Region, Side
from dystonia.errors import InvalidDocument, InvalidInput

# Input bound, not a clinical threshold: no verified human age exceeds it.
MAX_AGE_YEARS = 130


class Course(StrEnum):
    """Disease course (Albanese 2013, axis I temporal pattern)."""

    STATIC = "static"
    PROGRESSIVE = "progressive"


class Variability(StrEnum):
    """Variability over time (Albanese 2013, axis I); a patient may have several."""

    PERSISTENT = "persistent"
    ACTION_SPECIFIC = "action_specific"
    DIURNAL = "diurnal"
    PAROXYSMAL = "paroxysmal"


class FeatureKind(StrEnum):
    """What an associated feature is, which decides isolated versus combined.

    Isolated: dystonia is the only motor feature, except tremor; combined: with another
    movement disorder (Albanese 2013, clinical.md 1.6). Motor signs that are not movement
    disorders (ataxia, spasticity, pyramidal signs) make it not isolated without naming it
    combined.
    """

    TREMOR = "tremor"
    MOVEMENT_DISORDER = "movement_disorder"
    MOTOR_SIGN = "motor_sign"
    NEUROLOGICAL = "neurological"
    SYSTEMIC = "systemic"


class AssociatedFeature(StrEnum):
    """A feature seen with the dystonia (Albanese 2013, axis I associated features)."""

    TREMOR = "tremor"
    MYOCLONUS = "myoclonus"
    PARKINSONISM = "parkinsonism"
    CHOREA = "chorea"
    ATAXIA = "ataxia"
    SPASTICITY = "spasticity"
    PYRAMIDAL_SIGNS = "pyramidal_signs"
    COGNITIVE_DECLINE = "cognitive_decline"
    SEIZURES = "seizures"
    OCULOMOTOR_ABNORMALITY = "oculomotor_abnormality"
    NEUROPATHY = "neuropathy"
    OTHER_NEUROLOGICAL = "other_neurological"
    LIVER_DISEASE = "liver_disease"
    PSYCHIATRIC_FEATURES = "psychiatric_features"
    KAYSER_FLEISCHER_RINGS = "kayser_fleischer_rings"
    OTHER_SYSTEMIC = "other_systemic"

    @property
    def kind(self) -> FeatureKind:
        return FEATURE_KINDS[self]


FEATURE_KINDS: dict[AssociatedFeature, FeatureKind] = {
    AssociatedFeature.TREMOR: FeatureKind.TREMOR,
    AssociatedFeature.MYOCLONUS: FeatureKind.MOVEMENT_DISORDER,
    AssociatedFeature.PARKINSONISM: FeatureKind.MOVEMENT_DISORDER,
    AssociatedFeature.CHOREA: FeatureKind.MOVEMENT_DISORDER,
    AssociatedFeature.ATAXIA: FeatureKind.MOTOR_SIGN,
    AssociatedFeature.SPASTICITY: FeatureKind.MOTOR_SIGN,
    AssociatedFeature.PYRAMIDAL_SIGNS: FeatureKind.MOTOR_SIGN,
    AssociatedFeature.COGNITIVE_DECLINE: FeatureKind.NEUROLOGICAL,
    AssociatedFeature.SEIZURES: FeatureKind.NEUROLOGICAL,
    AssociatedFeature.OCULOMOTOR_ABNORMALITY: FeatureKind.NEUROLOGICAL,
    AssociatedFeature.NEUROPATHY: FeatureKind.NEUROLOGICAL,
    AssociatedFeature.OTHER_NEUROLOGICAL: FeatureKind.NEUROLOGICAL,
    AssociatedFeature.LIVER_DISEASE: FeatureKind.SYSTEMIC,
    AssociatedFeature.PSYCHIATRIC_FEATURES: FeatureKind.SYSTEMIC,
    AssociatedFeature.KAYSER_FLEISCHER_RINGS: FeatureKind.SYSTEMIC,
    AssociatedFeature.OTHER_SYSTEMIC: FeatureKind.SYSTEMIC,
}


class NervousSystemPathology(StrEnum):
    """Axis II: evidence of nervous system pathology (Albanese 2013)."""

    DEGENERATION = "degeneration"
    STRUCTURAL_LESION = "structural_lesion"
    NONE = "none"


class Inheritance(StrEnum):
    """Axis II inherited forms, genetically confirmed (Albanese 2013)."""

    AUTOSOMAL_DOMINANT = "autosomal_dominant"
    AUTOSOMAL_RECESSIVE = "autosomal_recessive"
    X_LINKED_RECESSIVE = "x_linked_recessive"
    MITOCHONDRIAL = "mitochondrial"


class AcquiredCause(StrEnum):
    """Axis II acquired causes (Albanese 2013); 'psychogenic' is today's functional dystonia."""

    PERINATAL_BRAIN_INJURY = "perinatal_brain_injury"
    INFECTION = "infection"
    DRUG = "drug"
    TOXIC = "toxic"
    VASCULAR = "vascular"
    NEOPLASTIC = "neoplastic"
    BRAIN_INJURY = "brain_injury"
    PSYCHOGENIC = "psychogenic"


@dataclass(frozen=True)
class Etiology:
    """What is known of the cause; every part is optional."""

    nervous_system_pathology: NervousSystemPathology | None = None
    inheritance: Inheritance | None = None
    gene: str | None = None
    acquired_cause: AcquiredCause | None = None


@dataclass(frozen=True)
class Findings:
    """Everything classification needs about one patient's dystonia.

    ``family_history``: a relative is known to have dystonia. ``drug_exposure``: exposure to a
    dopamine-receptor-blocking drug before onset.
    """

    age_at_onset_years: int
    regions: frozenset[BodySite]
    course: Course | None = None
    variability: frozenset[Variability] = field(default_factory=frozenset)
    associated_features: frozenset[AssociatedFeature] = field(default_factory=frozenset)
    family_history: bool = False
    drug_exposure: bool = False
    etiology: Etiology = field(default_factory=Etiology)

    def __post_init__(self) -> None:
        _check_age(self.age_at_onset_years)
        if not self.regions:
            raise InvalidInput(field="regions", value=[], allowed="at least one involved region")

    def involves(self, region: Region) -> bool:
        return any(site.region is region for site in self.regions)

    @property
    def features_of_kind(self) -> dict[FeatureKind, frozenset[AssociatedFeature]]:
        return {
            kind: frozenset(f for f in self.associated_features if f.kind is kind)
            for kind in FeatureKind
        }


def _check_age(age: object) -> None:
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= MAX_AGE_YEARS:
        raise InvalidInput(
            field="age_at_onset_years",
            value=age,
            allowed=f"a whole number of completed years from 0 to {MAX_AGE_YEARS}",
        )


FINDINGS_KEYS = frozenset(
    {
        "age_at_onset_years",
        "regions",
        "course",
        "variability",
        "associated_features",
        "family_history",
        "drug_exposure",
        "etiology",
    }
)
ETIOLOGY_KEYS = frozenset({"nervous_system_pathology", "inheritance", "gene", "acquired_cause"})
GENE_MAX_LENGTH = 40
_E = TypeVar("_E", bound=StrEnum)


def findings_from_document(document: object) -> Findings:
    """Validate a findings document (see schemas/findings.schema.json) into Findings.

    Raises InvalidDocument listing every problem, each naming its field.
    """
    if not isinstance(document, Mapping):
        problem = InvalidInput(
            field="(document)", value=type(document).__name__, allowed="an object"
        )
        raise InvalidDocument([problem])
    reader = _Reader()
    for key in sorted(set(document) - FINDINGS_KEYS):
        allowed = "no such key; allowed: " + ", ".join(sorted(FINDINGS_KEYS))
        reader.problem(str(key), "(present)", allowed)
    age = reader.age(document)
    regions = reader.regions(document.get("regions"), present="regions" in document)
    findings_fields: dict[str, Any] = {
        "course": reader.enum_value("course", document.get("course"), Course),
        "variability": reader.enum_list("variability", document.get("variability"), Variability),
        "associated_features": reader.enum_list(
            "associated_features", document.get("associated_features"), AssociatedFeature
        ),
        "family_history": reader.boolean("family_history", document.get("family_history")),
        "drug_exposure": reader.boolean("drug_exposure", document.get("drug_exposure")),
        "etiology": reader.etiology(document.get("etiology")),
    }
    if reader.problems:
        raise InvalidDocument(reader.problems)
    return Findings(age_at_onset_years=age, regions=frozenset(regions), **findings_fields)


class _Reader:
    """Reads values, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[InvalidInput] = []

    def problem(self, field_name: str, value: object, allowed: str) -> None:
        self.problems.append(InvalidInput(field=field_name, value=value, allowed=allowed))

    def age(self, document: Mapping[str, Any]) -> int:
        if "age_at_onset_years" not in document:
            self.problem("age_at_onset_years", None, "a whole number of completed years (required)")
            return 0
        age = document["age_at_onset_years"]
        # JSON Schema counts 12.0 as an integer; so does this reader.
        if isinstance(age, float) and age.is_integer():
            age = int(age)
        try:
            _check_age(age)
        except InvalidInput as error:
            self.problems.append(error)
            return 0
        return int(age)

    def enum_value(self, name: str, value: object, enum: type[_E]) -> _E | None:
        if value is None:
            return None
        if isinstance(value, str) and value in {member.value for member in enum}:
            return enum(value)
        self.problem(name, value, "one of " + ", ".join(member.value for member in enum))
        return None

    def enum_list(self, name: str, value: object, enum: type[_E]) -> frozenset[_E]:
        if value is None:
            return frozenset()
        if not isinstance(value, list):
            self.problem(name, value, "a list")
            return frozenset()
        members = (self.enum_value(f"{name}[{i}]", item, enum) for i, item in enumerate(value))
        return frozenset(member for member in members if member is not None)

    def boolean(self, name: str, value: object) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        self.problem(name, value, "true or false")
        return False

    def regions(self, value: object, *, present: bool) -> list[BodySite]:
        if not present or value is None:
            self.problem("regions", None, "a list of at least one involved region (required)")
            return []
        if not isinstance(value, list) or not value:
            self.problem("regions", value, "a list of at least one involved region")
            return []
        sites: list[BodySite] = []
        for index, item in enumerate(value):
            site = self._region(f"regions[{index}]", item)
            if site is not None:
                sites.append(site)
        return sites

    def _region(self, name: str, item: object) -> BodySite | None:
        if not isinstance(item, Mapping):
            self.problem(name, item, 'an object such as {"region": "neck"}')
            return None
        for key in sorted(set(item) - {"region", "side"}):
            self.problem(f"{name}.{key}", "(present)", "no such key; allowed: region, side")
        region = self.enum_value(f"{name}.region", item.get("region"), Region)
        if "region" not in item:
            self.problem(f"{name}.region", None, "a region (required)")
        side = self.enum_value(f"{name}.side", item.get("side"), Side)
        if region is None:
            return None
        if region.has_side and side is None and item.get("side") is None:
            self.problem(f"{name}.side", None, f"'left' or 'right' for {region.value}")
            return None
        if not region.has_side and item.get("side") is not None:
            self.problem(f"{name}.side", item.get("side"), f"no side for {region.value}")
            return None
        if region.has_side and side is None:
            return None
        return BodySite(region, side)

    def etiology(self, value: object) -> Etiology:
        if value is None:
            return Etiology()
        if not isinstance(value, Mapping):
            self.problem("etiology", value, "an object")
            return Etiology()
        for key in sorted(set(value) - ETIOLOGY_KEYS):
            allowed = "no such key; allowed: " + ", ".join(sorted(ETIOLOGY_KEYS))
            self.problem(f"etiology.{key}", "(present)", allowed)
        gene = value.get("gene")
        if gene is not None and not (
            isinstance(gene, str) and 0 < len(gene) <= GENE_MAX_LENGTH and gene.isprintable()
        ):
            self.problem(
                "etiology.gene", gene, f"a gene symbol of 1 to {GENE_MAX_LENGTH} characters"
            )
            gene = None
        return Etiology(
            nervous_system_pathology=self.enum_value(
                "etiology.nervous_system_pathology",
                value.get("nervous_system_pathology"),
                NervousSystemPathology,
            ),
            inheritance=self.enum_value(
                "etiology.inheritance", value.get("inheritance"), Inheritance
            ),
            gene=gene,
            acquired_cause=self.enum_value(
                "etiology.acquired_cause", value.get("acquired_cause"), AcquiredCause
            ),
        )
