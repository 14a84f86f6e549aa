"""Codes against the reference (clinical.md section 2; fhir.md 2.1 and 5), row by row."""

from __future__ import annotations

import pytest

from dystonia.classification import classify
from dystonia.coding import CodeSystem, codes_for, hemifacial_spasm_codes
from dystonia.errors import InvalidInput
from dystonia.findings import AcquiredCause, AssociatedFeature, Etiology, Inheritance
from tests.dystonia.helpers import JAW, L_ARM, LARYNX, NECK, R_ARM, TRUNK, UPPER_FACE, findings

ICD10, CM, ICD11, SCT = CodeSystem


def _codes(case):
    return {(code.system, code.code) for code in codes_for(classify(case))}


def test_system_uris_are_the_fhir_ones():
    assert ICD10.value == "http://hl7.org/fhir/sid/icd-10"
    assert CM.value == "http://hl7.org/fhir/sid/icd-10-cm"
    assert ICD11.value == "http://id.who.int/icd/release/11/mms"
    assert SCT.value == "http://snomed.info/sct"


def test_cervical_dystonia_is_g24_3_with_no_guessed_icd11_or_snomed():
    codes = _codes(findings(NECK))

    assert codes == {(ICD10, "G24.3"), (CM, "G24.3"), (SCT, "15802004"), (ICD11, "8A02")}


def test_blepharospasm_is_g24_5_and_8a02_00():
    assert {(ICD10, "G24.5"), (CM, "G24.5"), (ICD11, "8A02.00")} <= _codes(findings(UPPER_FACE))


def test_oromandibular_dystonia_is_g24_4():
    assert {(ICD10, "G24.4"), (CM, "G24.4")} <= _codes(findings(JAW))


def test_laryngeal_dystonia_has_no_specific_code():
    assert _codes(findings(LARYNX)) == {(SCT, "15802004"), (ICD11, "8A02")}


def test_drug_induced_dystonia_is_g24_0_and_8a02_10():
    case = findings(NECK, etiology=Etiology(acquired_cause=AcquiredCause.DRUG))

    assert {(ICD10, "G24.0"), (ICD11, "8A02.10")} <= _codes(case)


def test_suspected_forms_are_not_coded():
    assert (ICD10, "G24.0") not in _codes(findings(NECK, drug_exposure=True))


def test_functional_dystonia_is_f44_4_and_8a02_3_without_the_dystonia_category():
    case = findings(L_ARM, etiology=Etiology(acquired_cause=AcquiredCause.PSYCHOGENIC))

    assert _codes(case) == {(ICD10, "F44.4"), (CM, "F44.4"), (ICD11, "8A02.3"), (ICD11, "6B60.83")}


def test_non_focal_idiopathic_sporadic_is_g24_2():
    assert {(ICD10, "G24.2"), (CM, "G24.2")} <= _codes(findings(TRUNK, L_ARM, R_ARM))


def test_non_focal_idiopathic_familial_is_g24_1():
    case = findings(TRUNK, L_ARM, R_ARM, family_history=True)

    assert {(ICD10, "G24.1"), (CM, "G24.1")} <= _codes(case)


def test_non_focal_inherited_is_g24_1_genetic_torsion_dystonia_in_cm():
    case = findings(
        TRUNK, L_ARM, R_ARM, age=9, etiology=Etiology(inheritance=Inheritance.AUTOSOMAL_DOMINANT)
    )
    codes = codes_for(classify(case))

    assert any(
        c.system is CM and c.code == "G24.1" and c.display == "Genetic torsion dystonia"
        for c in codes
    )


def test_acquired_dystonia_is_g24_8_not_an_idiopathic_title():
    case = findings(L_ARM, UPPER_FACE, etiology=Etiology(acquired_cause=AcquiredCause.VASCULAR))

    codes = _codes(case)
    assert (ICD10, "G24.8") in codes
    assert (ICD11, "8A02.00") not in codes  # "benign essential" blepharospasm
    assert (ICD10, "G24.5") not in codes


def test_focal_acquired_dystonia_is_g24_8():
    case = findings(JAW, etiology=Etiology(acquired_cause=AcquiredCause.BRAIN_INJURY))

    codes = _codes(case)
    assert (ICD10, "G24.8") in codes
    assert (ICD10, "G24.4") not in codes  # "idiopathic" orofacial dystonia


def test_drug_induced_blepharospasm_is_g24_0_not_g24_5():
    case = findings(UPPER_FACE, etiology=Etiology(acquired_cause=AcquiredCause.DRUG))

    codes = _codes(case)
    assert (ICD10, "G24.0") in codes
    assert (ICD10, "G24.5") not in codes


def test_the_faulty_who_crosswalk_is_never_used():
    # The WHO 11-to-10 map pairs 8A02.0 with G24.0 (drug-induced): never emitted together.
    for case in [findings(NECK), findings(TRUNK, L_ARM, R_ARM), findings(UPPER_FACE, NECK)]:
        codes = _codes(case)
        assert (ICD10, "G24.0") not in codes
        assert (ICD11, "8A02.0") not in codes


def test_every_code_names_its_source_and_what_it_applies_to():
    for code in codes_for(classify(findings(UPPER_FACE, JAW, NECK))):
        assert code.source
        assert code.applies_to


@pytest.mark.parametrize(
    ("side", "cm"),
    [("right", "G51.31"), ("left", "G51.32"), ("bilateral", "G51.33"), (None, "G51.39")],
)
def test_hemifacial_spasm_codes_by_side(side, cm):
    codes = {(c.system, c.code) for c in hemifacial_spasm_codes(side=side)}

    assert codes == {(ICD10, "G51.3"), (CM, cm), (ICD11, "8B88.2"), (SCT, "13753008")}


def test_hemifacial_spasm_rejects_an_unknown_side():
    with pytest.raises(InvalidInput, match="side"):
        hemifacial_spasm_codes(side="middle")


def test_generalized_dystonia_is_not_coded_as_its_focal_parts():
    case = findings(TRUNK, NECK, UPPER_FACE, L_ARM, age=12)

    codes = _codes(case)
    assert (ICD10, "G24.2") in codes
    assert (ICD10, "G24.3") not in codes
    assert (ICD11, "8A02.00") not in codes


def test_confirmed_myoclonus_dystonia_gets_no_guessed_g24_code():
    case = findings(
        NECK,
        L_ARM,
        age=8,
        associated_features=frozenset({AssociatedFeature.MYOCLONUS}),
        etiology=Etiology(gene="SGCE", inheritance=Inheritance.AUTOSOMAL_DOMINANT),
    )

    assert _codes(case) == {(SCT, "15802004"), (ICD11, "8A02")}
