"""Diagnostic work-up: red flags present and the treatable causes to exclude, each with its
investigations and how to read them (shared/reference/clinical.md section 3). Advice only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dystonia import sources
from dystonia.anatomy import Region
from dystonia.classification import AgeBand, Classification, Distribution, NamedForm
from dystonia.findings import AssociatedFeature, Findings, Variability

# Bands counted as "child" and "adult" for the atypical-site red flags (docs/clinical-rules.md).
CHILD_BANDS = frozenset({AgeBand.INFANCY, AgeBand.CHILDHOOD})
ADULT_BANDS = frozenset({AgeBand.EARLY_ADULTHOOD, AgeBand.LATE_ADULTHOOD})
# Dystonia UK groups 0-20 as early onset (clinical.md 1.2).
EARLY_ONSET_MAX_YEARS = 20
# EFNS 2011: TOR1A testing for limb onset before 30.
TOR1A_LIMB_ONSET_BEFORE_YEARS = 30
# AASLD, via a secondary summary: consider Wilson disease from 3 to 55 years (clinical.md 3.2).
WILSON_AGE_WINDOW_YEARS = (3, 55)
WILSON_FEATURES = frozenset(
    {
        AssociatedFeature.LIVER_DISEASE,
        AssociatedFeature.PSYCHIATRIC_FEATURES,
        AssociatedFeature.KAYSER_FLEISCHER_RINGS,
    }
)


class RedFlag(StrEnum):
    """Features suggesting an acquired, degenerative or combined dystonia (clinical.md 3.7)."""

    ATYPICAL_SITE_FOR_AGE = "atypical_site_for_age"
    ADULT_ONSET_LEG = "adult_onset_leg"
    ADULT_ONSET_GENERALIZED = "adult_onset_generalized"
    HEMIDYSTONIA = "hemidystonia"
    OTHER_NEUROLOGICAL_SIGNS = "other_neurological_signs"
    ADULT_LIMB_NOT_TASK_SPECIFIC = "adult_limb_not_task_specific"
    DRUG_EXPOSURE = "drug_exposure"
    WILSON_FEATURES = "liver_or_psychiatric_features"


@dataclass(frozen=True)
class RedFlagFound:
    """A red flag present in the findings, why, and its source."""

    flag: RedFlag
    text: str
    source: str


@dataclass(frozen=True)
class Investigation:
    """A test to consider and how to read its result."""

    name: str
    interpretation: str
    source: str


@dataclass(frozen=True)
class WorkupItem:
    """A cause to exclude or a question to answer, why now, and the tests for it."""

    id: str
    title: str
    reason: str
    investigations: tuple[Investigation, ...]


@dataclass(frozen=True)
class Workup:
    """Red flags present and the work-up advised; ``note`` when none is needed."""

    red_flags: tuple[RedFlagFound, ...]
    items: tuple[WorkupItem, ...]
    note: str


def red_flags(findings: Findings, classification: Classification) -> tuple[RedFlagFound, ...]:
    """Every red flag the findings show."""
    band = classification.age_at_onset_band
    found: list[RedFlagFound] = []
    cranial_or_neck = any(s.region.is_cranial or s.region is Region.NECK for s in findings.regions)
    limbs = findings.involves(Region.UPPER_LIMB) or findings.involves(Region.LOWER_LIMB)
    # Involvement stands in for the site of onset: only a face or neck presentation counts,
    # since childhood dystonia that starts in a limb often spreads to the neck.
    if band in CHILD_BANDS and cranial_or_neck and not limbs:
        text = "onset in childhood in the face or neck, where childhood dystonia seldom starts"
        found.append(RedFlagFound(RedFlag.ATYPICAL_SITE_FOR_AGE, text, sources.UPTODATE_RED_FLAGS))
    adult = band in ADULT_BANDS
    if adult and findings.involves(Region.LOWER_LIMB):
        text = "adult onset with leg involvement (leg onset is typical of childhood)"
        source = f"{sources.UPTODATE_RED_FLAGS}; {sources.NASA_AXIS}"
        found.append(RedFlagFound(RedFlag.ADULT_ONSET_LEG, text, source))
    if adult and classification.distribution is Distribution.GENERALIZED:
        text = "adult-onset generalized dystonia"
        found.append(
            RedFlagFound(RedFlag.ADULT_ONSET_GENERALIZED, text, sources.UPTODATE_RED_FLAGS)
        )
    if classification.distribution is Distribution.HEMIDYSTONIA:
        text = "hemidystonia usually comes from a lesion of the opposite basal ganglia"
        found.append(RedFlagFound(RedFlag.HEMIDYSTONIA, text, sources.DYSTONIA_UK_GPG))
    associated = classification.associated
    others = associated.movement_disorders | associated.motor_signs | associated.neurological
    if others:
        listed = ", ".join(sorted(f.value.replace("_", " ") for f in others))
        text = f"neurological signs beyond dystonia and tremor: {listed}"
        source = f"{sources.BMJ_BEST_PRACTICE}; {sources.ALBANESE_2013}"
        found.append(RedFlagFound(RedFlag.OTHER_NEUROLOGICAL_SIGNS, text, source))
    task_specific = Variability.ACTION_SPECIFIC in findings.variability
    # Only limb presentations: an arm joining cervical or cranial dystonia is spread, not onset.
    limb_presentation = findings.involves(Region.UPPER_LIMB) and not cranial_or_neck
    if adult and limb_presentation and not task_specific:
        text = "adult upper limb dystonia that is not task-specific"
        found.append(RedFlagFound(RedFlag.ADULT_LIMB_NOT_TASK_SPECIFIC, text, sources.NASA_AXIS))
    if findings.drug_exposure:
        text = "exposure to a dopamine-receptor-blocking drug"
        found.append(RedFlagFound(RedFlag.DRUG_EXPOSURE, text, sources.UPTODATE_RED_FLAGS))
    wilson = findings.associated_features & WILSON_FEATURES
    if wilson:
        listed = ", ".join(sorted(f.value.replace("_", " ") for f in wilson))
        text = f"features of Wilson disease: {listed}"
        found.append(RedFlagFound(RedFlag.WILSON_FEATURES, text, sources.EASL_2012))
    return tuple(found)


# Wilson disease investigations with the reference's cut-offs in stated units (clinical.md 3.2).
CAERULOPLASMIN = Investigation(
    "Serum caeruloplasmin",
    "Normal about 0.2-0.5 g/L. Below 0.1 g/L (10 mg/dL) with Kayser-Fleischer rings is usually "
    "enough for the diagnosis; 0.1-0.2 g/L scores 1 and below 0.1 g/L scores 2 in the Leipzig "
    "score. A normal value does not exclude Wilson disease (normal in about 15-36%, mostly "
    "hepatic); it can be low for other reasons or falsely normal in inflammation, with "
    "oestrogen or in pregnancy.",
    f"{sources.EASL_2012}; {sources.LEIPZIG_SCORE}",
)
URINARY_COPPER = Investigation(
    "24-hour urinary copper (basal)",
    "Above 1.6 µmol/24 h (100 µg) is typical in symptomatic patients; above 0.64 µmol/24 h "
    "(40 µg) is suggestive (the cut-off used in children); 0.9-1.6 µmol/24 h is intermediate "
    "in about half of presymptomatic patients.",
    f"{sources.EASL_2012}; {sources.ROBERTS_SCHILSKY}",
)
SLIT_LAMP = Investigation(
    "Slit-lamp examination for Kayser-Fleischer rings (by an ophthalmologist)",
    "Present in over 99% with neurological or psychiatric Wilson disease, but only 30-50% "
    "with hepatic or presymptomatic disease.",
    sources.HARRISONS_KF,
)
MRI_BRAIN = Investigation(
    "MRI brain (CT if calcification is suspected)",
    "Looks for a structural or secondary cause; usually normal in idiopathic dystonia.",
    f"{sources.EFNS_2011}; {sources.BMJ_BEST_PRACTICE}",
)
LEVODOPA_TRIAL = Investigation(
    "Levodopa trial (levodopa with a decarboxylase inhibitor)",
    "Dopa-responsive dystonia responds dramatically and durably to low doses, with benefit "
    "within days; titrate slowly. The dose and duration that make a trial 'negative' are not "
    "settled in the reference.",
    f"{sources.EFNS_2011}; {sources.GENEREVIEWS_GCH1}",
)


def cause_recorded(findings: Findings) -> bool:
    """A cause is already known: a confirmed inheritance or an acquired cause. Then the
    tests that look for a cause (levodopa trial, genetic tests, imaging) are not advised."""
    etiology = findings.etiology
    return etiology.inheritance is not None or etiology.acquired_cause is not None


def _genetic_tests(findings: Findings, classification: Classification) -> list[Investigation]:
    if cause_recorded(findings):
        return []
    age = findings.age_at_onset_years
    early = age <= EARLY_ONSET_MAX_YEARS
    tests: list[Investigation] = []
    # Limb involvement stands in for limb onset, which the findings do not record.
    limb = findings.involves(Region.UPPER_LIMB) or findings.involves(Region.LOWER_LIMB)
    if (limb and age < TOR1A_LIMB_ONSET_BEFORE_YEARS) or findings.family_history:
        why = (
            f"limb involvement with onset before {TOR1A_LIMB_ONSET_BEFORE_YEARS}"
            if limb and age < TOR1A_LIMB_ONSET_BEFORE_YEARS
            else "a relative has dystonia: test if that relative's onset was early"
        )
        tests.append(Investigation(f"TOR1A (DYT1) testing: {why}", "", sources.EFNS_2011))
    craniocervical = any(s.region.is_cranial or s.region is Region.NECK for s in findings.regions)
    if craniocervical and (early or findings.family_history):
        why = "early-onset" if early else "familial"
        text = f"THAP1 (DYT6) testing: {why} craniocervical dystonia, or after TOR1A is excluded"
        tests.append(Investigation(text, "", sources.EFNS_2011))
    if AssociatedFeature.MYOCLONUS in findings.associated_features and early:
        text = (
            "SGCE (DYT11) testing: early-onset myoclonus; add gene dosage if sequencing is negative"
        )
        tests.append(Investigation(text, "", sources.EFNS_2011))
    suspected_drd = any(
        r.form is NamedForm.DOPA_RESPONSIVE_DYSTONIA and r.suspected for r in classification.forms
    )
    if suspected_drd:
        text = "GCH1 (and TH) testing: suspected dopa-responsive dystonia"
        tests.append(Investigation(text, "", sources.GENEREVIEWS_GCH1))
    return tests


def _wilson_item(findings: Findings, classification: Classification) -> WorkupItem | None:
    age = findings.age_at_onset_years
    low, high = WILSON_AGE_WINDOW_YEARS
    features = findings.associated_features & WILSON_FEATURES
    kf_rings = AssociatedFeature.KAYSER_FLEISCHER_RINGS in features
    in_window = low <= age <= high
    clues = [
        clue
        for clue, present in [
            (f"early onset (at or before {EARLY_ONSET_MAX_YEARS})", age <= EARLY_ONSET_MAX_YEARS),
            ("combined dystonia", not classification.isolated),
            ("liver, psychiatric or eye features", bool(features)),
        ]
        if present
    ]
    cause_known = cause_recorded(findings)
    if not (kf_rings or (in_window and clues and (features or not cause_known))):
        return None
    if in_window and clues:
        reason = (
            f"treatable; onset at {age} is within {low}-{high} years, the age window quoted "
            "for considering Wilson disease in unexplained liver disease "
            f"({sources.AASLD_AGE_WINDOW}), used here as the screening window; with "
            + " and ".join(clues)
        )
    else:
        reason = "treatable; Kayser-Fleischer rings are recorded"
    return WorkupItem(
        "wilson_disease",
        "Exclude Wilson disease",
        reason,
        (CAERULOPLASMIN, URINARY_COPPER, SLIT_LAMP),
    )


def workup_for(findings: Findings, classification: Classification) -> Workup:
    """Red flags and the work-up to consider, in the order a clinician would act on them."""
    flags = red_flags(findings, classification)
    items: list[WorkupItem] = []
    wilson = _wilson_item(findings, classification)
    if wilson is not None:
        items.append(wilson)
    suspected_drd = any(
        r.form is NamedForm.DOPA_RESPONSIVE_DYSTONIA and r.suspected for r in classification.forms
    )
    early = findings.age_at_onset_years <= EARLY_ONSET_MAX_YEARS
    if (early or suspected_drd) and not cause_recorded(findings):
        why = "early-onset dystonia without an alternative diagnosis warrants a levodopa trial"
        if suspected_drd:
            why = "dopa-responsive dystonia is suspected; " + why
        items.append(WorkupItem("levodopa_trial", "Levodopa trial", why, (LEVODOPA_TRIAL,)))
    structural = [flag for flag in flags if flag.flag is not RedFlag.DRUG_EXPOSURE]
    if structural and not cause_recorded(findings):
        why = "red flags suggest an acquired or structural cause: " + "; ".join(
            flag.text for flag in structural
        )
        items.append(WorkupItem("structural_cause", "Imaging", why, (MRI_BRAIN,)))
    genetic = _genetic_tests(findings, classification)
    if genetic:
        why = "indications for genetic testing are met"
        items.append(WorkupItem("genetic_testing", "Genetic testing", why, tuple(genetic)))
    if findings.drug_exposure:
        text = "Dopamine-receptor blockers (antipsychotics, metoclopramide) can cause dystonia."
        review = Investigation("Drug history review", text, "UTSW dystonia evaluation page")
        why = "exposure to a dopamine-receptor-blocking drug is recorded"
        items.append(WorkupItem("drug_review", "Review medicines", why, (review,)))
    note = ""
    typical_cervical = (
        classification.distribution is Distribution.FOCAL
        and classification.form_ids == (NamedForm.CERVICAL_DYSTONIA,)
        and classification.age_at_onset_band in ADULT_BANDS
        and classification.isolated
        and not flags
    )
    if typical_cervical and not items:
        note = "Typical idiopathic adult cervical dystonia needs no further work-up."
        note = f"{note} ({sources.BMJ_BEST_PRACTICE})"
    return Workup(red_flags=flags, items=tuple(items), note=note)
