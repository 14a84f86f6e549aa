"""The classification beside the examination: the core's result from the record (history,
examination, relatives, drug history), shown with its reasons and codes; the clinician
confirms or overrides with a reason, both kept; a draft cannot be signed while its
classification is undecided; locked after signing."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import classification, encounters, examination_selectors, history
from clinic.records.access import AccessRefused
from clinic.records.classification import ClassificationRefused, ReviewNotFound
from clinic.records.encounters import EncounterRefused
from clinic.records.examination import SITES, SiteFinding
from clinic.records.models import (
    ClassificationReview,
    DrugExposure,
    Encounter,
    EncounterKind,
    FamilyMember,
    History,
    Relationship,
    ReviewDecision,
)
from dystonia.anatomy import BodySite, Region, Side
from dystonia.assessment import assess, assessment_document
from dystonia.findings import Findings, findings_from_document
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_examination import NECK, RIGHT_ARM, form_data, make_exam, save
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(db, staff, patient_user):
    """A draft encounter of Dr Ann's whose history gives an age at onset of 40."""
    return make_exam(staff, patient_user)


def current(exam) -> ClassificationReview | None:
    return classification.current_review(exam["encounter"].pk)


def confirm(exam, review, user=None):
    return classification.classification_confirm(
        context=context_of(user or exam["clinician"]), review_id=review.pk
    )


def override(exam, review, user=None, **fields):
    values = {"distribution": "multifocal", "reason": "Arm involvement is a separate process."}
    return classification.classification_override(
        context=context_of(user or exam["clinician"]), review_id=review.pk, **(values | fields)
    )


def sign(exam):
    return encounters.encounter_sign(
        context=context_of(exam["clinician"]), encounter_id=exam["encounter"].pk
    )


# The core's result


def test_neck_and_right_upper_limb_at_40_is_segmental_with_the_cores_reason(exam):
    save(exam, [NECK, RIGHT_ARM])

    review = current(exam)
    expected = assess(
        Findings(
            age_at_onset_years=40,
            regions=frozenset({BodySite(Region.NECK), BodySite(Region.UPPER_LIMB, Side.RIGHT)}),
            associated_features=findings_from_document(review.findings).associated_features,
        )
    )
    assert review.distribution == "segmental"
    assert review.decision == ReviewDecision.PENDING
    assert review.assessment == assessment_document(expected)
    reasons = [r["text"] for r in review.assessment["reasons"] if r["about"] == "distribution"]
    assert reasons == ["segmental: neck and right upper limb are contiguous"]
    assert review.findings["regions"] == [
        {"region": "neck", "side": None},
        {"region": "upper_limb", "side": "right"},
    ]


def test_focal_neck_is_cervical_dystonia_with_g24_3(exam):
    save(exam, [SiteFinding("neck")])

    review = current(exam)
    codes = {(c["system"], c["code"]) for c in review.assessment["codes"]}
    assert review.distribution == "focal"
    assert review.forms == "cervical_dystonia"
    assert ("http://hl7.org/fhir/sid/icd-10", "G24.3") in codes


def test_a_relative_with_dystonia_changes_the_etiology(exam):
    save(exam, [NECK, RIGHT_ARM])
    before = current(exam)
    FamilyMember.objects.create(
        patient=exam["patient"],
        relationship=Relationship.MOTHER,
        condition="Cervical dystonia",
        has_dystonia=True,
        recorded_by=exam["clinician"],
    )

    classification.refresh_reviews_for_patient(exam["patient"])

    after = current(exam)
    assert after.pk != before.pk
    assert before.assessment["etiology"]["idiopathic_kind"] == "sporadic"
    assert after.assessment["etiology"]["idiopathic_kind"] == "familial"
    assert after.findings["family_history"] is True
    assert {c["code"] for c in after.assessment["codes"]} >= {"G24.1"}


def test_a_dopamine_receptor_blocker_in_the_drug_history_suggests_drug_induced(exam):
    DrugExposure.objects.create(
        patient=exam["patient"],
        drug="Haloperidol",
        dopamine_receptor_blocker=True,
        recorded_by=exam["clinician"],
    )
    save(exam, [NECK])

    review = current(exam)
    assert review.findings["drug_exposure"] is True
    details = {d["form"]: d["suspected"] for d in review.assessment["form_details"]}
    assert details["drug_induced_dystonia"] is True


def test_task_specific_and_tremor_in_a_region_reach_the_core(exam):
    save(exam, [SiteFinding("upper_limb", "right", task_specific=True, tremor=True)])

    review = current(exam)
    assert review.findings["variability"] == ["action_specific"]
    assert review.findings["associated_features"] == ["tremor"]
    assert "writers_cramp" in review.forms.split()
    assert review.assessment["red_flags"] == []


def test_adult_arm_dystonia_not_task_specific_shows_the_red_flag(exam, client):
    save(exam, [SiteFinding("upper_limb", "right")])
    sign_in(client, exam["clinician"])
    page = client.get(f"/records/encounters/{exam['encounter'].pk}/").content.decode()

    flags = current(exam).assessment["red_flags"]
    assert flags
    assert escape(flags[0]["text"][1:]) in page


def test_saving_the_same_findings_again_adds_no_review(exam):
    save(exam, [NECK, RIGHT_ARM])
    save(exam, [NECK, RIGHT_ARM], notes="More notes, same findings.")

    assert ClassificationReview.objects.count() == 1


def test_refreshing_leaves_signed_encounters_and_those_without_examination_alone(exam):
    save(exam, [NECK])
    confirm(exam, current(exam))
    sign(exam)
    other, _ = encounters.encounter_start(
        context=context_of(exam["clinician"]),
        patient=exam["patient"],
        kind=EncounterKind.FOLLOW_UP,
        site=exam["site"],
    )
    History.objects.create(encounter=other, age_at_onset_years=40)
    FamilyMember.objects.create(
        patient=exam["patient"],
        relationship=Relationship.FATHER,
        condition="Dystonia",
        has_dystonia=True,
        recorded_by=exam["clinician"],
    )

    classification.refresh_reviews_for_patient(
        exam["patient"], context=context_of(exam["clinician"])
    )

    assert ClassificationReview.objects.count() == 1


@pytest.mark.parametrize(
    ("age", "sites", "missing"),
    [
        (None, [NECK], [classification.NEED_AGE]),
        (40, [], [classification.NEED_REGION]),
        (None, [], [classification.NEED_AGE, classification.NEED_REGION]),
    ],
)
def test_what_is_missing_is_said_and_no_review_is_made(exam, client, age, sites, missing):
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=age)
    save(exam, sites)
    sign_in(client, exam["clinician"])
    page = client.get(f"/records/encounters/{exam['encounter'].pk}/").content.decode()

    assert classification.findings_document(exam["encounter"]) is None
    assert not ClassificationReview.objects.exists()
    for message in missing:
        assert escape(message) in page


def test_no_history_at_all_needs_the_age(exam):
    History.objects.filter(encounter=exam["encounter"]).delete()
    save(exam, [NECK])

    section = examination_selectors.examination_section(
        context=context_of(exam["clinician"]), encounter=exam["encounter"]
    )
    assert section.missing == [classification.NEED_AGE]
    assert section.panel is None


# The page


def test_the_encounter_page_shows_the_classification_beside_the_findings(exam, client):
    save(exam, [NECK, RIGHT_ARM])
    sign_in(client, exam["clinician"])
    page = client.get(f"/records/encounters/{exam['encounter'].pk}/").content.decode()

    assert 'id="classification"' in page
    assert '<strong class="classification-distribution">Segmental</strong>' in page
    assert "Segmental: neck and right upper limb are contiguous." in page
    assert "40 years: early adulthood" in page
    assert '<span class="code-system">ICD-10</span> <strong>G24.2</strong>' in page
    assert '<span class="code-system">SNOMED CT</span> <strong>15802004</strong>' in page
    assert "Not reviewed yet" in page
    assert "Confirm the classification" in page
    assert "Override with my classification" in page


def test_suspected_forms_are_marked(exam, client):
    save(exam, [NECK], features=["myoclonus"])
    sign_in(client, exam["clinician"])
    page = client.get(f"/records/encounters/{exam['encounter'].pk}/").content.decode()

    assert re.search(r"Myoclonus-dystonia <span class=\"status status-new\">suspected</span>", page)


def test_the_section_reads_in_a_fixed_number_of_queries_and_is_audited(exam):
    save(exam, [NECK, RIGHT_ARM])
    before = AuditEntry.objects.count()
    context = context_of(exam["clinician"])

    with CaptureQueriesContext(connection) as queries:
        section = examination_selectors.examination_section(
            context=context, encounter=exam["encounter"]
        )

    # History, examination, regions, relatives, drug history, current review, audit entry.
    assert len(queries) == 7
    assert section.panel is not None
    assert AuditEntry.objects.count() == before + 1


# Deciding


def test_confirming_records_who_and_when(exam):
    save(exam, [NECK, RIGHT_ARM])

    decided = confirm(exam, current(exam))

    assert decided.decision == ReviewDecision.CONFIRMED
    assert decided.decided_by == exam["clinician"]
    assert decided.decided_at is not None
    assert decided.final_distribution == "segmental"
    entry = AuditEntry.objects.filter(object_type="classification_review").latest("pk")
    assert entry.detail == f"classification review {decided.pk} confirmed"


def test_overriding_keeps_both_results(exam, client):
    save(exam, [NECK, RIGHT_ARM])

    decided = override(exam, current(exam), statement="Two separate focal dystonias")

    assert decided.decision == ReviewDecision.OVERRIDDEN
    assert decided.distribution == "segmental"
    assert decided.clinician_distribution == "multifocal"
    assert decided.final_distribution == "multifocal"
    assert decided.override_reason == "Arm involvement is a separate process."
    assert decided.assessment["distribution"] == "segmental"
    sign_in(client, exam["clinician"])
    page = client.get(f"/records/encounters/{exam['encounter'].pk}/").content.decode()
    assert "The core's result</dt><dd>Segmental" in page
    assert "The clinician's result</dt><dd>Multifocal" in page
    assert "Two separate focal dystonias" in page
    assert "Dr Ann" in page
    audit = " ".join(AuditEntry.objects.values_list("detail", flat=True)).lower()
    assert "multifocal" not in audit
    assert "separate process" not in audit


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"reason": ""}, classification.REASON_REQUIRED, "reason"),
        ({"reason": "   "}, classification.REASON_REQUIRED, "reason"),
        ({"reason": None}, classification.REASON_REQUIRED, "reason"),
        ({"distribution": ""}, classification.DISTRIBUTION_REQUIRED, "distribution"),
        ({"distribution": "total"}, classification.DISTRIBUTION_REQUIRED, "distribution"),
        ({"distribution": 3}, classification.DISTRIBUTION_REQUIRED, "distribution"),
        ({"reason": "x" * 2_001}, classification.REASON_TOO_LONG, "reason"),
        ({"reason": "a\x00b"}, encounters.NUL_CHARACTER, "reason"),
        ({"reason": ["a"]}, classification.BAD_TEXT, "reason"),
        ({"statement": "x" * 301}, classification.STATEMENT_TOO_LONG, "statement"),
        ({"statement": "\x00"}, encounters.NUL_CHARACTER, "statement"),
    ],
)
def test_a_bad_override_is_refused_audited_and_nothing_written(exam, fields, message, field):
    save(exam, [NECK, RIGHT_ARM])
    review = current(exam)
    audit_before = AuditEntry.objects.count()

    with pytest.raises(ClassificationRefused) as refused:
        override(exam, review, **fields)

    assert (refused.value.message, refused.value.field, refused.value.status) == (
        message,
        field,
        400,
    )
    review.refresh_from_db()
    assert review.decision == ReviewDecision.PENDING
    assert ClassificationReview.objects.count() == 1
    assert AuditEntry.objects.filter(outcome="refused").count() == 1
    assert AuditEntry.objects.count() == audit_before + 1


def test_a_stale_review_is_refused_so_nothing_unseen_is_confirmed(exam):
    save(exam, [NECK])
    shown = current(exam)
    save(exam, [NECK, RIGHT_ARM])  # another tab: a new review

    with pytest.raises(ClassificationRefused) as refused:
        confirm(exam, shown)

    assert (refused.value.message, refused.value.status) == (classification.STALE_REVIEW, 409)
    assert not ClassificationReview.objects.exclude(decision=ReviewDecision.PENDING).exists()


def test_a_review_of_findings_changed_since_is_refused(exam, client):
    save(exam, [NECK])
    review = current(exam)
    # A change that did not refresh the review (a write path that forgot to).
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=10)

    with pytest.raises(ClassificationRefused) as refused:
        confirm(exam, review)
    sign_in(client, exam["clinician"])
    page = client.get(f"/records/encounters/{exam['encounter'].pk}/").content.decode()

    assert (refused.value.message, refused.value.status) == (classification.FINDINGS_CHANGED, 409)
    assert escape(classification.FINDINGS_CHANGED) in page
    assert "Confirm the classification" not in page


def test_confirming_twice_is_one_decision(exam):
    save(exam, [NECK])
    review = current(exam)

    confirm(exam, review)
    confirm(exam, review)

    assert ClassificationReview.objects.count() == 1


def test_deciding_again_keeps_the_earlier_decision(exam):
    save(exam, [NECK])
    confirmed = confirm(exam, current(exam))

    overridden = override(exam, confirmed)

    confirmed.refresh_from_db()
    assert overridden.pk != confirmed.pk
    assert confirmed.decision == ReviewDecision.CONFIRMED
    assert overridden.decision == ReviewDecision.OVERRIDDEN
    assert overridden.findings == confirmed.findings
    assert current(exam).pk == overridden.pk


def test_only_the_author_decides(exam):
    save(exam, [NECK])
    colleague = factories.user(role=Role.CLINICIAN)

    with pytest.raises(ClassificationRefused) as refused:
        confirm(exam, current(exam), user=colleague)

    assert refused.value.status == 403
    assert current(exam).decision == ReviewDecision.PENDING


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_cannot_decide(exam, role):
    save(exam, [NECK])

    with pytest.raises(AccessRefused):
        confirm(exam, current(exam), user=exam["staff"][role])

    assert current(exam).decision == ReviewDecision.PENDING
    assert AuditEntry.objects.filter(actor=exam["staff"][role], outcome="refused").exists()


def test_a_patient_cannot_decide(exam, patient_user):
    save(exam, [NECK])

    with pytest.raises(AccessRefused) as refused:
        confirm(exam, current(exam), user=patient_user)

    assert refused.value.reveal is False


def test_an_unknown_review_is_not_found_and_audited(exam):
    with pytest.raises(ReviewNotFound):
        classification.classification_confirm(
            context=context_of(exam["clinician"]), review_id=999_999
        )

    assert AuditEntry.objects.filter(
        object_type="classification_review", object_id="999999", outcome="refused"
    ).exists()


# Signing


def test_a_pending_classification_blocks_signing(exam):
    save(exam, [NECK, RIGHT_ARM])

    with pytest.raises(EncounterRefused) as refused:
        sign(exam)

    assert refused.value.message == "Confirm or override the classification before signing."
    assert refused.value.status == 409
    assert not Encounter.objects.get().is_signed


def test_signing_after_confirming_locks_the_classification(exam):
    save(exam, [NECK, RIGHT_ARM])
    review = confirm(exam, current(exam))
    sign(exam)

    with pytest.raises(ClassificationRefused) as refused:
        override(exam, review)

    assert (refused.value.message, refused.value.status) == (encounters.LOCKED, 409)
    review.refresh_from_db()
    assert review.decision == ReviewDecision.CONFIRMED
    assert ClassificationReview.objects.count() == 1


def test_an_encounter_without_classified_findings_signs(exam):
    save(exam, [NECK])  # a pending review
    save(exam, [])  # then no region: nothing to classify, nothing to decide

    assert sign(exam).is_signed


def test_findings_changed_without_a_refresh_block_signing(exam):
    save(exam, [NECK])
    confirm(exam, current(exam))
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=10)

    with pytest.raises(EncounterRefused) as refused:
        sign(exam)

    assert refused.value.status == 409


def test_the_sign_page_says_why_signing_is_refused(exam, client):
    save(exam, [NECK])
    sign_in(client, exam["clinician"])
    page = client.get(f"/records/encounters/{exam['encounter'].pk}/sign/").content.decode()
    version = re.search(r'name="updated_at" value="([^"]+)"', page).group(1)

    response = client.post(
        f"/records/encounters/{exam['encounter'].pk}/sign/", {"updated_at": version}
    )

    assert response.status_code == 409
    assert classification.PENDING_AT_SIGNING in response.content.decode()


# Deciding through the pages


def _decide_url(review) -> str:
    return f"/records/classification-reviews/{review.pk}/decide/"


def test_confirming_on_the_page_then_signing(exam, client):
    sign_in(client, exam["clinician"])
    client.post(f"/records/encounters/{exam['encounter'].pk}/examination/", form_data("neck"))
    review = current(exam)

    response = client.post(_decide_url(review), {"decision": "confirm"})

    assert response.status_code == 302
    assert response["Location"].endswith("#classification")
    page = client.get(response["Location"]).content.decode()
    assert "Confirmed</span> by Dr Ann" in page
    assert sign(exam).is_signed


def test_an_override_without_reason_on_the_page_is_400_with_the_message(exam, client):
    save(exam, [NECK])
    sign_in(client, exam["clinician"])

    response = client.post(
        _decide_url(current(exam)), {"decision": "override", "distribution": "segmental"}
    )

    assert response.status_code == 400
    assert escape(classification.REASON_REQUIRED) in response.content.decode()
    assert current(exam).decision == ReviewDecision.PENDING


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"decision": "maybe"},
        {"decision": "override", "distribution": "total", "reason": "x"},
        {"decision": "override", "distribution": "focal", "reason": "x" * 2_001},
        {"decision": "override", "distribution": "focal", "reason": "a\x00"},
    ],
)
def test_bad_decision_forms_are_400_and_write_nothing(exam, client, data):
    save(exam, [NECK])
    sign_in(client, exam["clinician"])

    assert client.post(_decide_url(current(exam)), data).status_code == 400
    assert current(exam).decision == ReviewDecision.PENDING


def test_a_stale_decision_form_is_409_and_shows_the_new_classification(exam, client):
    save(exam, [NECK])
    shown = current(exam)
    save(exam, [NECK, RIGHT_ARM])
    sign_in(client, exam["clinician"])

    response = client.post(_decide_url(shown), {"decision": "confirm"})

    assert response.status_code == 409
    body = response.content.decode()
    assert escape(classification.STALE_REVIEW) in body
    assert "Segmental" in body


def test_overriding_on_the_page_escapes_the_clinicians_text(exam, client):
    save(exam, [NECK])
    sign_in(client, exam["clinician"])
    script = "<script>alert(1)</script>"

    response = client.post(
        _decide_url(current(exam)),
        {
            "decision": "override",
            "distribution": "segmental",
            "reason": script,
            "statement": script,
        },
    )
    page = client.get(response["Location"]).content.decode()

    assert script not in page
    assert escape(script) in page


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_non_clinicians_get_404_on_the_decision_page(exam, client, role, patient_user):
    save(exam, [NECK])
    review = current(exam)
    user = patient_user if role == Role.PATIENT else exam["staff"][role]
    sign_in(client, user, second_factor=role != Role.PATIENT)

    assert client.get(_decide_url(review)).status_code == 404
    assert client.post(_decide_url(review), {"decision": "confirm"}).status_code == 404
    assert current(exam).decision == ReviewDecision.PENDING


def test_an_unknown_review_page_is_404(exam, client):
    sign_in(client, exam["clinician"])

    assert client.get("/records/classification-reviews/999999/decide/").status_code == 404
    assert (
        client.post("/records/classification-reviews/999999/decide/", {"decision": "confirm"})
    ).status_code == 404


def test_another_clinician_sees_the_classification_without_the_buttons(exam, client):
    save(exam, [NECK])
    colleague = factories.user(role=Role.CLINICIAN)
    sign_in(client, colleague)

    page = client.get(_decide_url(current(exam)))
    posted = client.post(_decide_url(current(exam)), {"decision": "confirm"})

    assert page.status_code == 200
    assert "Cervical dystonia" in page.content.decode()
    assert "Confirm the classification" not in page.content.decode()
    assert posted.status_code == 403


# Property: the stored review is the core's result


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sites=st.sets(st.sampled_from(SITES), min_size=1), age=st.integers(0, 130))
def test_the_stored_distribution_is_the_cores_for_any_sites(exam, sites, age):
    History.objects.filter(encounter=exam["encounter"]).update(age_at_onset_years=age)
    save(exam, [SiteFinding(site.region, site.side) for site in sites])

    review = current(exam)
    expected = assess(
        Findings(
            age_at_onset_years=age,
            regions=frozenset(
                BodySite(Region(site.region), Side(site.side) if site.side else None)
                for site in sites
            ),
        )
    )
    assert review.distribution == expected.classification.distribution.value
    assert review.assessment == assessment_document(expected)


def test_saving_the_history_classifies_an_examination_saved_before_it(exam):
    History.objects.filter(encounter=exam["encounter"]).delete()
    save(exam, [NECK])
    assert not ClassificationReview.objects.exists()

    history.history_save(
        context=context_of(exam["clinician"]),
        encounter_id=exam["encounter"].pk,
        details=history.HistoryDetails(age_at_onset_years=40),
        expected_updated_at=None,
    )

    assert current(exam).distribution == "focal"
    assert AuditEntry.objects.filter(
        object_type="classification_review", action="create", outcome="allowed"
    ).exists()
