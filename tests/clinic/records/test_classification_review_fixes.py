"""Three corners of the classification review: a decision on findings that can no longer be
classified is set aside and never signed; a signed encounter keeps the classification it was
signed with when the relatives or drug history change later; only a dopamine-receptor blocker
that may have been started before onset counts as drug exposure."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils.html import escape

from clinic.audit.models import AuditEntry
from clinic.records import classification, diagnosis_selectors, encounters, examination_selectors
from clinic.records.classification import ClassificationRefused
from clinic.records.letter_document import classification_of
from clinic.records.models import (
    ClassificationReview,
    DrugExposure,
    Encounter,
    FamilyMember,
    History,
    Patient,
    RegionFinding,
    Relationship,
    ReviewDecision,
)
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_examination import NECK, RIGHT_ARM, make_exam, save
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(db, staff, patient_user):
    """A draft encounter of Dr Ann's whose history gives an age at onset of 40."""
    return make_exam(staff, patient_user)


def current(exam) -> ClassificationReview | None:
    return classification.current_review(exam["encounter"].pk)


def confirm(exam) -> ClassificationReview:
    return classification.classification_confirm(
        context=context_of(exam["clinician"]), review_id=current(exam).pk
    )


def sign(exam) -> Encounter:
    return encounters.encounter_sign(
        context=context_of(exam["clinician"]), encounter_id=exam["encounter"].pk
    )


def page(client, exam) -> str:
    sign_in(client, exam["clinician"])
    return client.get(f"/records/encounters/{exam['encounter'].pk}/").content.decode()


# 1. A decision on findings that can no longer be classified


def test_clearing_every_site_after_confirming_sets_the_decision_aside_and_keeps_it(exam, client):
    save(exam, [NECK, RIGHT_ARM])
    confirmed = confirm(exam)

    save(exam, [])

    newest = current(exam)
    assert newest.pk != confirmed.pk
    assert newest.decision == ReviewDecision.PENDING
    confirmed.refresh_from_db()  # the decision is history: kept as it was
    assert confirmed.decision == ReviewDecision.CONFIRMED
    assert ClassificationReview.objects.count() == 2
    assert AuditEntry.objects.filter(
        object_type="classification_review",
        object_id=str(newest.pk),
        detail__contains=f"review {confirmed.pk}'s confirmed decision no longer applies",
    ).exists()
    shown = page(client, exam)
    assert escape(classification.NEED_REGION) in shown
    assert 'class="classification-distribution"' not in shown
    assert "Confirmed</span> by Dr Ann" not in shown


def test_the_set_aside_classification_is_not_offered_signed_or_written_in_a_letter(exam):
    save(exam, [NECK])
    confirm(exam)
    context = context_of(exam["clinician"])
    assert diagnosis_selectors.problem_list(context=context, patient=exam["patient"]).offers

    save(exam, [])
    signed = sign(exam)

    assert signed.is_signed
    assert not diagnosis_selectors.problem_list(context=context, patient=exam["patient"]).offers
    assert classification_of(current(exam)) is None  # what the encounter's letters print


def test_removing_the_age_at_onset_sets_an_override_aside_too(exam):
    save(exam, [NECK])
    overridden = classification.classification_override(
        context=context_of(exam["clinician"]),
        review_id=current(exam).pk,
        distribution="segmental",
        reason="The shoulder is involved too.",
    )
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=None)

    classification.refresh_reviews_for_patient(exam["patient"])
    classification.refresh_reviews_for_patient(exam["patient"])  # once is enough

    assert current(exam).decision == ReviewDecision.PENDING
    assert ClassificationReview.objects.count() == 2
    overridden.refresh_from_db()
    assert overridden.decision == ReviewDecision.OVERRIDDEN


def test_marking_the_same_sites_again_asks_for_a_decision_again(exam):
    save(exam, [NECK])
    confirm(exam)
    save(exam, [])
    save(exam, [NECK])

    with pytest.raises(encounters.EncounterRefused) as refused:
        sign(exam)

    assert refused.value.message == classification.PENDING_AT_SIGNING
    confirm(exam)
    assert sign(exam).is_signed


def test_a_decided_classification_of_findings_since_cleared_is_not_signed(exam):
    save(exam, [NECK])
    confirm(exam)
    # Sites cleared by a write that did not refresh the review.
    RegionFinding.objects.filter(examination__encounter=exam["encounter"]).delete()
    assert classification.findings_document(exam["encounter"]) is None

    with pytest.raises(ClassificationRefused) as refused:
        sign(exam)

    assert refused.value.status == 409
    assert refused.value.message.startswith("The examination no longer has findings to classify; ")
    assert not Encounter.objects.get(pk=exam["encounter"].pk).is_signed
    assert AuditEntry.objects.filter(
        object_type="encounter",
        outcome="refused",
        detail=f"sign refused: {classification.NO_FINDINGS_AT_SIGNING}",
    ).exists()


def test_the_sign_page_says_the_findings_are_gone_and_saving_again_lets_it_sign(exam, client):
    save(exam, [NECK])
    confirm(exam)
    RegionFinding.objects.filter(examination__encounter=exam["encounter"]).delete()
    sign_in(client, exam["clinician"])
    url = f"/records/encounters/{exam['encounter'].pk}/sign/"
    version = re.search(r'name="updated_at" value="([^"]+)"', client.get(url).content.decode())

    response = client.post(url, {"updated_at": version.group(1)})

    assert response.status_code == 409
    assert escape(classification.NO_FINDINGS_AT_SIGNING) in response.content.decode()
    save(exam, [])  # what the message asks
    assert sign(exam).is_signed


# 2. A signed encounter keeps the classification it was signed with


def _signed_and_confirmed(exam) -> ClassificationReview:
    save(exam, [NECK])
    confirmed = confirm(exam)
    sign(exam)
    return confirmed


def test_a_relative_recorded_after_signing_leaves_the_signed_classification_shown(exam, client):
    confirmed = _signed_and_confirmed(exam)
    FamilyMember.objects.create(
        patient=exam["patient"],
        relationship=Relationship.MOTHER,
        condition="Cervical dystonia",
        has_dystonia=True,
        recorded_by=exam["clinician"],
    )
    classification.refresh_reviews_for_patient(exam["patient"])

    shown = page(client, exam)

    assert "Confirmed</span> by Dr Ann" in shown
    assert '<strong class="classification-distribution">Focal</strong>' in shown
    assert escape(classification.FINDINGS_CHANGED) not in shown
    section = examination_selectors.examination_section(
        context=context_of(exam["clinician"]), encounter=Encounter.objects.get()
    )
    assert section.panel is not None
    assert section.panel.review.pk == confirmed.pk
    assert section.changed == ""


def test_a_drug_recorded_after_signing_leaves_the_signed_classification_shown(exam, client):
    _signed_and_confirmed(exam)
    DrugExposure.objects.create(
        patient=exam["patient"],
        drug="Metoclopramide",
        dopamine_receptor_blocker=True,
        recorded_by=exam["clinician"],
    )

    shown = page(client, exam)

    assert "Confirmed</span> by Dr Ann" in shown
    assert escape(classification.FINDINGS_CHANGED) not in shown


def test_a_draft_still_says_its_findings_changed(exam, client):
    save(exam, [NECK])
    confirm(exam)
    FamilyMember.objects.create(
        patient=exam["patient"],
        relationship=Relationship.FATHER,
        condition="Dystonia",
        has_dystonia=True,
        recorded_by=exam["clinician"],
    )  # no refresh: the draft's review is of the findings before

    shown = page(client, exam)

    assert escape(classification.FINDINGS_CHANGED) in shown
    assert "Confirmed</span> by Dr Ann" not in shown


# 3. Drug exposure: dopamine-receptor blockers started before onset


BORN = date(1960, 3, 10)


@pytest.mark.parametrize(
    ("started_on", "counted"),
    [
        pytest.param(date(2005, 3, 10), False, id="started at 45"),
        pytest.param(date(1980, 3, 10), True, id="started at 20"),
        pytest.param(None, True, id="start unknown"),
        pytest.param(date(1990, 9, 10), True, id="started at 30 and a half"),
        pytest.param(date(1991, 3, 9), True, id="the day before turning 31"),
        pytest.param(date(1991, 3, 10), False, id="on turning 31"),
    ],
)
def test_only_a_blocker_started_before_onset_at_30_is_drug_exposure(exam, started_on, counted):
    Patient.objects.filter(pk=exam["patient"].pk).update(date_of_birth=BORN)
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=30)
    DrugExposure.objects.create(
        patient=exam["patient"],
        drug="Haloperidol",
        dopamine_receptor_blocker=True,
        started_on=started_on,
        recorded_by=exam["clinician"],
    )

    save(exam, [NECK])

    review = current(exam)
    assert review.findings["drug_exposure"] is counted
    suspected = {d["form"]: d["suspected"] for d in review.assessment["form_details"]}
    assert ("drug_induced_dystonia" in suspected) is counted


def test_a_later_blocker_beside_an_earlier_one_still_counts(exam):
    Patient.objects.filter(pk=exam["patient"].pk).update(date_of_birth=BORN)
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=30)
    for drug, started_on in [("Risperidone", date(2010, 1, 1)), ("Prochlorperazine", None)]:
        DrugExposure.objects.create(
            patient=exam["patient"],
            drug=drug,
            dopamine_receptor_blocker=True,
            started_on=started_on,
            recorded_by=exam["clinician"],
        )

    save(exam, [NECK])

    assert current(exam).findings["drug_exposure"] is True


def test_the_panel_does_not_suggest_a_drug_started_years_after_onset(exam, client):
    Patient.objects.filter(pk=exam["patient"].pk).update(date_of_birth=BORN)
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=30)
    DrugExposure.objects.create(
        patient=exam["patient"],
        drug="Haloperidol",
        dopamine_receptor_blocker=True,
        started_on=date(2005, 3, 10),
        recorded_by=exam["clinician"],
    )
    save(exam, [NECK])

    shown = page(client, exam)

    assert "Drug-induced dystonia" not in shown
    DrugExposure.objects.update(started_on=date(1985, 6, 1))  # at 25: before onset
    classification.refresh_reviews_for_patient(exam["patient"])
    assert "Drug-induced dystonia" in page(client, exam)
