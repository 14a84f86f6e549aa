"""The pathway advisor on the treatment page: the core's options (dystonia.pathway.pathway_for)
for the latest decided classification that is still current, beside what the record shows was
tried; for an overridden classification, the options of the clinician's distribution; none
without a decided classification."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.utils import timezone

from clinic.treatment import medication, pathway, selectors, surgery, therapy
from dystonia.classification import Distribution, classify
from dystonia.classification.forms import named_forms
from dystonia.findings import findings_from_document
from dystonia.pathway import Treatment, pathway_for
from tests.clinic.records.test_diagnoses import encounter_for, review_for
from tests.clinic.records.test_encounters import context_of
from tests.clinic.treatment.helpers import add_system
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

NECK = {"age_at_onset_years": 45, "regions": [{"region": "neck"}]}


def _page(unit):
    return selectors.treatment_page(context=context_of(unit["clinician"]), patient=unit["patient"])


def _decided(unit, decision="confirmed", *, days_ago=10):
    started = timezone.now() - timedelta(days=days_ago)
    encounter = encounter_for(unit["patient"], unit["clinician"], started_at=started)
    return review_for(encounter, decision=decision)


def test_without_a_decided_classification_the_panel_says_what_to_do(unit):
    encounter = encounter_for(unit["patient"], unit["clinician"])
    review_for(encounter, decision="")  # pending

    panel = _page(unit).pathway

    assert panel.rows == []
    assert panel.message == pathway.NO_CLASSIFICATION


def test_the_options_are_the_cores_for_a_confirmed_classification(unit):
    _decided(unit)

    panel = _page(unit).pathway

    findings = findings_from_document(NECK)
    expected = pathway_for(findings, classify(findings))
    assert [row.step for row in panel.rows] == list(expected.steps)
    assert panel.note == expected.note
    assert panel.distribution == "Focal dystonia"
    treatments = [row.step.treatment for row in panel.rows]
    assert treatments[0] is Treatment.BOTULINUM_TOXIN  # first-line for cervical dystonia
    assert Treatment.SELECTIVE_PERIPHERAL_DENERVATION in treatments
    assert panel.overridden_note == ""


def test_an_overridden_classification_gives_the_options_of_the_clinicians_distribution(unit):
    _decided(unit, "overridden")

    panel = _page(unit).pathway

    findings = findings_from_document(NECK)
    core = classify(findings)
    theirs = replace(
        core,
        distribution=Distribution.MULTIFOCAL,
        forms=tuple(
            named_forms(findings, band=core.age_at_onset_band, distribution=Distribution.MULTIFOCAL)
        ),
    )
    assert [row.step for row in panel.rows] == list(pathway_for(findings, theirs).steps)
    assert panel.distribution == "Multifocal dystonia"
    assert "overridden" in panel.overridden_note


def test_a_decision_no_longer_current_is_not_used(unit):
    older = _decided(unit, days_ago=30)
    newer = _decided(unit, "overridden", days_ago=5)
    review_for(newer.encounter, decision="")  # findings saved again since: pending

    assert pathway.latest_decided_review(unit["patient"]) == older


def test_the_options_show_what_the_record_shows_was_tried(unit):
    _decided(unit)
    context = context_of(unit["clinician"])
    medication.medication_add(
        context=context,
        patient_id=unit["patient"].pk,
        details=medication.MedicationDetails(
            drug="Trihexyphenidyl 2 mg",
            started_on=date(2023, 1, 1),
            stopped_on=date(2023, 6, 1),
            stop_reason="side_effects",
        ),
    )
    therapy.referral_add(
        context=context,
        patient_id=unit["patient"].pk,
        details=therapy.ReferralDetails(discipline="physiotherapy", referred_on=date(2023, 2, 1)),
    )
    surgery.procedure_add(
        context=context,
        patient_id=unit["patient"].pk,
        details=surgery.ProcedureDetails(
            kind="selective_peripheral_denervation", performed_on=date(2024, 1, 1)
        ),
    )
    add_system(unit)

    rows = {row.step.treatment: row.tried for row in _page(unit).pathway.rows}

    assert rows[Treatment.TRIHEXYPHENIDYL] == [
        "Trihexyphenidyl 2 mg, started 1 January 2023, stopped 1 June 2023 (side effects); "
        "effect: not yet assessed"
    ]
    assert rows[Treatment.PHYSIOTHERAPY] == ["Referred 1 February 2023 (referred)"]
    assert rows[Treatment.SELECTIVE_PERIPHERAL_DENERVATION] == ["Performed 1 January 2024"]
    assert rows[Treatment.DEEP_BRAIN_STIMULATION] == ["Implanted 1 June 2020"]
    assert rows[Treatment.BOTULINUM_TOXIN] == []


@pytest.mark.parametrize(
    ("name", "treatments"),
    [
        ("Levodopa 100 mg", (Treatment.LEVODOPA, Treatment.LEVODOPA_TRIAL)),
        ("baclofen (liquid)", (Treatment.BACLOFEN,)),
        ("Clonazepam", (Treatment.CLONAZEPAM,)),
        ("Tetrabenazine", (Treatment.TETRABENAZINE,)),
        ("Haloperidol", ()),
    ],
)
def test_a_medicine_names_its_option_by_its_generic_name(name, treatments):
    assert pathway.medicine_treatments(name) == treatments


def test_the_page_shows_the_options_beside_the_treatments_tried(client, unit):
    _decided(unit)
    medication.medication_add(
        context=context_of(unit["clinician"]),
        patient_id=unit["patient"].pk,
        details=medication.MedicationDetails(drug="Baclofen", started_on=date(2023, 1, 1)),
    )
    sign_in(client, unit["clinician"])

    page = client.get(f"/records/patients/{unit['patient'].pk}/treatment/").content.decode()

    assert "Treatment options (pathway advisor)" in page
    assert '<th scope="row">Botulinum toxin</th>' in page
    assert "Advice only: the treating clinician decides." in page
    assert "Source: Albanese A et al. EFNS guidelines on dystonia" in page
