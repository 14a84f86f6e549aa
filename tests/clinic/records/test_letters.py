"""Clinic letters: started from a signed encounter only, addressed by the rules (consent,
recorded addresses), edited by their author, sent once and then frozen (HTML and PDF); only
clinicians, every read and write audited without clinical content, nothing written on a
refusal."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pypdf
import pytest
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import letter_selectors, letters
from clinic.records.access import AccessRefused
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.letter_document import letter_content, render_letter_html, render_letter_pdf
from clinic.records.letter_forms import OUT_OF_DATE
from clinic.records.letters import Addressing, LetterNotFound, LetterRefused
from clinic.records.models import (
    ClassificationReview,
    Diagnosis,
    DiagnosisKind,
    Encounter,
    EncounterKind,
    Examination,
    History,
    Letter,
    LetterStatus,
    RegionFinding,
    ReviewDecision,
)
from dystonia.anatomy import BodySite, Region
from dystonia.assessment import assess, assessment_document
from dystonia.findings import Findings
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ADDRESSING_FIELDS = ("to_gp", "to_referrer", "copy_to_patient")
PLAN = "Botulinum toxin to the right sternocleidomastoid; review in 12 weeks."
COMPLAINT = "Neck pulls to the left for two years."
DIAGNOSIS = "Focal dystonia: Cervical dystonia (spasmodic torticollis)"
# Text that must never reach the audit trail, which administrators read.
CLINICAL_WORDS = ("toxin", "Cervical", "dystonia", "Neck", "torticollis", "tremor")


# Builders, shared with test_patient_letters.py


def record_case(*, patient_user, staff) -> dict:
    """A patient with GP, referrer and address; a signed consultation with history,
    examination, a confirmed classification, and a diagnosis on the problem list."""
    site = factories.site(name="Made-up Neurology Centre", email="unit@example.org")
    practitioner = factories.practitioner(sites=[site], job_title="Consultant neurologist")
    clinician = factories.user(
        role=Role.CLINICIAN, practitioner=practitioner, full_name="Dr Ann Author"
    )
    patient = patient_user.patient_record
    for name, value in {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "nhs_number": "9434765919",
        "address": "3 Home Lane, London",
        "postcode": "N1 1AA",
        "gp_name": "Dr Gee Pee",
        "gp_practice": "Made-up Surgery",
        "gp_address": "1 High Street, London",
        "referrer_name": "Dr Ray Ferrer",
        "referrer_organisation": "Elsewhere Hospital",
        "referrer_address": "2 Low Road, Leeds",
        "consents_to_gp_letters": True,
    }.items():
        setattr(patient, name, value)
    patient.save()
    encounter = signed_encounter(patient=patient, clinician=clinician, site=site)
    History.objects.create(
        encounter=encounter,
        presenting_complaint=COMPLAINT,
        age_at_onset_years=45,
        first_region="neck",
        course="progressive",
    )
    examination = Examination.objects.create(encounter=encounter, associated_features=["tremor"])
    RegionFinding.objects.create(
        examination=examination,
        region="neck",
        posture="rotated to the left",
        movement="jerky",
        tremor=True,
    )
    review = review_of(encounter, clinician, decision=ReviewDecision.CONFIRMED)
    Diagnosis.objects.create(
        patient=patient,
        kind=DiagnosisKind.DYSTONIA,
        label=DIAGNOSIS,
        codes=review.assessment["codes"],
        diagnosed_on=date(2025, 1, 6),
        encounter=encounter,
        recorded_by=clinician,
    )
    return {
        "site": site,
        "clinician": clinician,
        "patient": patient,
        "encounter": encounter,
        "reception": staff[Role.RECEPTION],
        "admin": staff[Role.ADMIN],
    }


def signed_encounter(*, patient, clinician, site, signed: bool = True) -> Encounter:
    now = timezone.now()
    return Encounter.objects.create(
        patient=patient,
        kind=EncounterKind.CONSULTATION,
        clinician=clinician,
        site=site,
        started_at=now - timedelta(hours=1),
        notes="Seen today.",
        signed_at=now if signed else None,
        signed_by=clinician if signed else None,
    )


def review_of(encounter, clinician, *, decision, **fields) -> ClassificationReview:
    findings = Findings(age_at_onset_years=45, regions=frozenset({BodySite(Region.NECK)}))
    document = assessment_document(assess(findings))
    decided = decision != ReviewDecision.PENDING
    return ClassificationReview.objects.create(
        encounter=encounter,
        findings={"age_at_onset_years": 45},
        assessment=document,
        classification_version=document["classification_version"],
        distribution=document["distribution"],
        forms=" ".join(document["forms"]),
        decision=decision,
        decided_by=clinician if decided else None,
        decided_at=timezone.now() if decided else None,
        **fields,
    )


def start(case, user=None, **addressing) -> Letter:
    letter, _created = letters.letter_start(
        context=context_of(user or case["clinician"]),
        encounter_id=case["encounter"].pk,
        addressing=Addressing(**addressing) if addressing else None,
    )
    return letter


def save(case, letter, *, plan=PLAN, comments="", user=None, addressing=None, seen=None):
    return letters.letter_update(
        context=context_of(user or case["clinician"]),
        letter_id=letter.pk,
        plan=plan,
        comments=comments,
        addressing=addressing
        or Addressing(letter.to_gp, letter.to_referrer, letter.copy_to_patient),
        expected_updated_at=seen or letter.updated_at,
    )


def send(case, letter, user=None) -> Letter:
    return letters.letter_send(context=context_of(user or case["clinician"]), letter_id=letter.pk)


def sent_letter(case, **addressing) -> Letter:
    return send(case, save(case, start(case, **addressing)))


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, as a reader of the file would get it."""
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def letter_entries(**filters):
    return list(
        AuditEntry.objects.filter(object_type="letter", **filters)
        .order_by("pk")
        .values_list("action", "outcome")
    )


@pytest.fixture
def case(db, staff, patient_user):
    return record_case(patient_user=patient_user, staff=staff)


# Starting


def test_a_letter_starts_from_a_signed_encounter_with_the_default_addressees(case):
    letter, created = letters.letter_start(
        context=context_of(case["clinician"]), encounter_id=case["encounter"].pk
    )

    assert created
    assert (letter.to_gp, letter.to_referrer, letter.copy_to_patient) == (True, True, True)
    assert letter.status == LetterStatus.DRAFT
    assert letter.patient == case["patient"]
    assert letter.author == case["clinician"]
    entry = AuditEntry.objects.get(object_type="letter")
    assert (entry.action, entry.outcome, entry.patient) == ("create", "allowed", case["patient"])
    assert entry.detail == (
        f"draft started about encounter {case['encounter'].pk}, to GP, referrer, patient"
    )


def test_the_defaults_leave_out_a_gp_without_consent_and_an_unrecorded_referrer(case):
    patient = case["patient"]
    patient.consents_to_gp_letters = False
    patient.referrer_name = patient.referrer_organisation = patient.referrer_address = ""
    patient.save()

    letter = start(case)

    assert (letter.to_gp, letter.to_referrer, letter.copy_to_patient) == (False, False, True)


def test_a_draft_encounter_is_refused_with_409_and_nothing_is_written(case):
    draft = signed_encounter(
        patient=case["patient"], clinician=case["clinician"], site=case["site"], signed=False
    )

    with pytest.raises(LetterRefused) as refused:
        letters.letter_start(context=context_of(case["clinician"]), encounter_id=draft.pk)

    assert refused.value.message == letters.ENCOUNTER_NOT_SIGNED
    assert refused.value.status == 409
    assert not Letter.objects.exists()
    assert letter_entries() == [("create", "refused")]


def test_a_letter_to_the_gp_is_refused_when_the_patient_withdrew_consent(case):
    patient = case["patient"]
    patient.consents_to_gp_letters = False
    patient.save()

    with pytest.raises(LetterRefused) as refused:
        start(case, to_gp=True, to_referrer=False, copy_to_patient=True)

    assert refused.value.message == letters.GP_CONSENT_WITHDRAWN
    assert refused.value.field == "to_gp"
    assert not Letter.objects.exists()


@pytest.mark.parametrize(
    ("blank", "addressing", "message"),
    [
        ((), (False, False, False), letters.NO_ADDRESSEE),
        (("gp_address",), (True, False, False), letters.GP_NOT_RECORDED),
        (("gp_name", "gp_practice"), (True, False, False), letters.GP_NOT_RECORDED),
        (("referrer_address",), (False, True, False), letters.REFERRER_NOT_RECORDED),
        (
            ("referrer_name", "referrer_organisation"),
            (False, True, False),
            letters.REFERRER_NOT_RECORDED,
        ),
    ],
)
def test_each_addressee_needs_a_name_and_address_recorded(case, blank, addressing, message):
    patient = case["patient"]
    for field in blank:
        setattr(patient, field, "")
    patient.save()

    with pytest.raises(LetterRefused) as refused:
        start(case, **dict(zip(ADDRESSING_FIELDS, addressing, strict=True)))

    assert refused.value.message == message
    assert not Letter.objects.exists()


def test_a_copy_to_the_patient_needs_an_address_or_an_account(case):
    patient = case["patient"]
    patient.address = patient.postcode = ""
    patient.save()
    assert start(case, to_gp=False, to_referrer=False, copy_to_patient=True)  # online
    patient.user = None
    patient.save()

    with pytest.raises(LetterRefused) as refused:
        letters.letter_start(
            context=context_of(factories.user(role=Role.CLINICIAN)),
            encounter_id=case["encounter"].pk,
            addressing=Addressing(False, False, True),
        )

    assert refused.value.message == letters.PATIENT_UNREACHABLE


def test_a_second_start_by_the_author_opens_their_draft_and_a_colleague_starts_their_own(case):
    first = start(case)
    again, created = letters.letter_start(
        context=context_of(case["clinician"]), encounter_id=case["encounter"].pk
    )
    colleague = factories.user(role=Role.CLINICIAN)
    theirs = start(case, user=colleague)

    assert (again, created) == (first, False)
    assert theirs != first
    assert theirs.author == colleague
    assert Letter.objects.count() == 2


def test_an_unknown_encounter_is_not_found_and_audited(case):
    with pytest.raises(LetterNotFound):
        letters.letter_start(context=context_of(case["clinician"]), encounter_id=999_999)

    assert AuditEntry.objects.filter(object_type="encounter", outcome="refused").count() == 1


# Editing


def test_the_author_saves_the_plan_and_comments_and_the_audit_counts_characters(case):
    letter = save(case, start(case), plan=f"  {PLAN}\r\n", comments="Thank you.")

    assert (letter.plan, letter.comments) == (PLAN, "Thank you.")
    entry = AuditEntry.objects.filter(object_type="letter", action="update").get()
    assert entry.detail == (
        f"draft saved: plan {len(PLAN)} characters, comments 10, to GP, referrer, patient"
    )


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"plan": "a\x00b"}, NUL_CHARACTER, "plan"),
        ({"comments": "\x00"}, NUL_CHARACTER, "comments"),
        ({"plan": "x" * (letters.PLAN_MAX_LENGTH + 1)}, letters.PLAN_TOO_LONG, "plan"),
        (
            {"comments": "x" * (letters.COMMENTS_MAX_LENGTH + 1)},
            letters.COMMENTS_TOO_LONG,
            "comments",
        ),
        ({"plan": 12}, "Enter text for the plan.", "plan"),
        ({"comments": None}, "Enter text for the comments.", "comments"),
        ({"addressing": Addressing(False, False, False)}, letters.NO_ADDRESSEE, "to_gp"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(case, changes, message, field):
    letter = save(case, start(case))
    before = last_audit_pk()

    with pytest.raises(LetterRefused) as refused:
        save(case, letter, **changes)

    assert (refused.value.message, refused.value.field) == (message, field)
    unchanged = Letter.objects.get()
    assert (unchanged.plan, unchanged.updated_at) == (PLAN, letter.updated_at)
    assert list(AuditEntry.objects.filter(pk__gt=before).values_list("action", "outcome")) == [
        ("update", "refused")
    ]


def test_only_the_author_edits_or_sends_a_draft(case):
    letter = save(case, start(case))
    colleague = factories.user(role=Role.CLINICIAN)

    for attempt in (
        lambda: save(case, letter, plan="Overwritten", user=colleague),
        lambda: send(case, letter, user=colleague),
    ):
        with pytest.raises(LetterRefused) as refused:
            attempt()
        assert refused.value.status == 403
        assert refused.value.message == letters.NOT_AUTHOR.format(name="Dr Ann Author")

    unchanged = Letter.objects.get()
    assert (unchanged.plan, unchanged.status) == (PLAN, LetterStatus.DRAFT)


def test_a_save_based_on_an_old_version_is_refused_rather_than_overwriting(case):
    opened = start(case)
    save(case, opened, plan="First tab")

    with pytest.raises(LetterRefused) as refused:
        save(case, opened, plan="Second tab")

    assert (refused.value.message, refused.value.status) == (letters.STALE, 409)
    assert Letter.objects.get().plan == "First tab"


# Sending


def test_sending_freezes_the_addressees_the_html_and_a_real_pdf(case):
    letter = sent_letter(case)

    assert letter.status == LetterStatus.SENT
    assert letter.sent_by == case["clinician"]
    assert [a["role"] for a in letter.addressees] == ["gp", "referrer", "patient"]
    assert letter.addressees[0]["name"] == "Dr Gee Pee"
    assert letter.addressees[0]["address"] == "1 High Street, London"
    stored = Letter.objects.get()
    pdf = bytes(stored.pdf)
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-1024:]
    assert "Ada Lovelace" in pdf_text(pdf)
    assert "Ada Lovelace" in stored.html
    assert "DRAFT" not in stored.html
    entry = AuditEntry.objects.filter(object_type="letter", detail__startswith="sent").get()
    assert entry.detail == f"sent to 3 addressees ({len(pdf):,}-byte PDF)"


def test_a_sent_letter_never_changes_and_is_sent_once(case):
    letter = sent_letter(case)
    html, pdf = letter.html, bytes(letter.pdf)
    patient = case["patient"]
    patient.gp_name = "Dr New"
    patient.save()

    with pytest.raises(LetterRefused) as edit:
        save(case, letter, plan="Changed afterwards")
    with pytest.raises(LetterRefused) as again:
        send(case, letter)

    assert (edit.value.message, edit.value.status) == (letters.SENT_LOCKED, 409)
    assert (again.value.message, again.value.status) == (letters.ALREADY_SENT, 409)
    stored = Letter.objects.get()
    assert (stored.html, bytes(stored.pdf), stored.plan) == (html, pdf, PLAN)
    assert stored.addressees[0]["name"] == "Dr Gee Pee"  # as sent, not as now


def test_a_letter_needs_a_plan_before_sending(case):
    letter = start(case)

    with pytest.raises(LetterRefused) as refused:
        send(case, letter)

    assert refused.value.message == letters.PLAN_REQUIRED
    assert Letter.objects.get().status == LetterStatus.DRAFT


def test_sending_checks_consent_again(case):
    letter = save(case, start(case))
    patient = case["patient"]
    patient.consents_to_gp_letters = False
    patient.save()

    with pytest.raises(LetterRefused) as refused:
        send(case, letter)

    assert refused.value.message == letters.GP_CONSENT_WITHDRAWN
    stored = Letter.objects.get()
    assert (stored.status, stored.html, bytes(stored.pdf)) == (LetterStatus.DRAFT, "", b"")


def test_a_letter_changed_since_the_confirmation_page_is_not_sent_unseen(case):
    shown = save(case, start(case))
    save(case, shown, plan="Changed in another tab")

    with pytest.raises(LetterRefused) as refused:
        letters.letter_send(
            context=context_of(case["clinician"]),
            letter_id=shown.pk,
            expected_updated_at=shown.updated_at,
        )

    assert refused.value.message == letters.CHANGED_SINCE_SHOWN
    assert Letter.objects.get().status == LetterStatus.DRAFT


# Who


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_can_neither_read_nor_write_letters(case, staff, role):
    letter = save(case, start(case))
    context = context_of(staff[role])
    before = last_audit_pk()
    attempts = [
        lambda: letters.letter_start(context=context, encounter_id=case["encounter"].pk),
        lambda: letters.letter_update(
            context=context,
            letter_id=letter.pk,
            plan="Mine",
            comments="",
            addressing=Addressing(True, True, True),
            expected_updated_at=letter.updated_at,
        ),
        lambda: letters.letter_send(context=context, letter_id=letter.pk),
        lambda: letter_selectors.letter_for_clinician(context=context, letter_id=letter.pk),
        lambda: letter_selectors.letter_pdf_for_clinician(context=context, letter_id=letter.pk),
    ]

    for attempt in attempts:
        with pytest.raises(AccessRefused) as refused:
            attempt()
        assert refused.value.reveal is False  # asked for by an id: existence not told (404)

    assert Letter.objects.get().plan == PLAN
    assert Letter.objects.count() == 1
    refusals = AuditEntry.objects.filter(pk__gt=before)
    assert set(refusals.values_list("outcome", "actor", "patient")) == {
        ("refused", staff[role].pk, case["patient"].pk)
    }
    assert refusals.count() == len(attempts)
    assert letter_selectors.letters_section(context=context, patient=case["patient"]) is None


def test_a_patient_cannot_write_even_their_own_letters(case, patient_user):
    letter = save(case, start(case))

    with pytest.raises(AccessRefused) as refused:
        save(case, letter, plan="My own words", user=patient_user)

    assert not refused.value.reveal  # 404
    assert Letter.objects.get().plan == PLAN


# What the letter says


def test_the_letter_says_what_is_recorded_with_the_final_classification_and_codes(case):
    html = Letter.objects.get(pk=sent_letter(case).pk).html

    for expected in (
        "Made-up Neurology Centre",
        "Re: Ada Lovelace, born 1 January 1970, NHS number 943 476 5919, hospital number",
        DIAGNOSIS,
        "Focal dystonia",
        "late adulthood",
        "ICD-10 G24.3",
        "SNOMED CT 15802004",
        COMPLAINT,
        "Age at onset: 45 years",
        "Neck: posture rotated to the left; movement jerky, with tremor",
        "Associated signs: tremor.",
        PLAN,
        "Dr Ann Author",
        "Consultant neurologist",
        "Dear Dr Gee Pee",
        "Copies: Dr Ray Ferrer (Referrer); Ada Lovelace (Patient)",
    ):
        assert expected in html, expected


def test_an_overridden_classification_is_the_clinicians_with_only_the_category_codes(case):
    encounter = case["encounter"]
    review_of(
        encounter,
        case["clinician"],
        decision=ReviewDecision.OVERRIDDEN,
        clinician_distribution="segmental",
        clinician_statement="Cervical and upper limb",
        override_reason="Arm involved on examination",
    )
    Diagnosis.objects.all().delete()

    html = Letter.objects.get(pk=sent_letter(case).pk).html

    assert "Segmental dystonia: Cervical and upper limb" in html
    assert "SNOMED CT 15802004" in html
    assert "G24.3" not in html  # derived from the rejected classification
    assert "Arm involved" not in html


def test_an_unreviewed_classification_and_absent_parts_are_left_out(case):
    encounter = case["encounter"]
    review_of(encounter, case["clinician"], decision=ReviewDecision.PENDING)
    RegionFinding.objects.all().delete()
    Examination.objects.all().delete()
    History.objects.all().delete()
    Diagnosis.objects.all().delete()
    letter = save(case, start(case))

    page = letter_selectors.letter_for_clinician(
        context=context_of(case["clinician"]), letter_id=letter.pk
    )
    html = render_letter_html(letter_content(letter, on=date(2026, 3, 2), draft=True))

    assert page.content is not None
    assert page.content.classification_pending
    for absent in ("Diagnosis", "Classification", "Findings", "G24.3"):
        assert absent not in html
    assert PLAN in html
    assert "DRAFT" in html


def test_a_draft_letter_is_marked_draft_in_its_html_and_pdf_title(case):
    letter = save(case, start(case))
    html = render_letter_html(letter_content(letter, on=date(2026, 3, 2), draft=True))

    assert "<title>DRAFT clinic letter: not sent</title>" in html
    assert "DRAFT: NOT SENT" in html
    assert render_letter_pdf(html).startswith(b"%PDF-")


def test_the_letter_document_loads_nothing_from_outside(case):
    html = Letter.objects.get(pk=sent_letter(case).pk).html

    assert re.search(r"(src|href)\s*=|url\(|@import|@font-face", html) is None
    assert "<style>" in html  # the print CSS travels inside the document
    # Even an image in a document is not fetched (no network, no files from the disk).
    assert render_letter_pdf('<img src="http://example.invalid/x.png">').startswith(b"%PDF-")


def test_the_letter_content_takes_a_fixed_number_of_queries(case, django_assert_num_queries):
    letter = save(case, start(case))
    for region in ("trunk", "larynx", "upper_face"):
        RegionFinding.objects.create(examination=case["encounter"].examination, region=region)

    # The letter with its joins, the regions, the current review, the problem list.
    with django_assert_num_queries(4):
        content = letter_content(letter, on=date(2026, 3, 2), draft=True)

    assert len(content.regions) == 4


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.text(min_size=1, max_size=60).filter(lambda t: "\x00" not in t and t.strip()))
def test_whatever_the_plan_says_it_is_escaped_in_the_letter(case, plan):
    plan = f"{SCRIPT}{plan}"
    letter = Letter.objects.filter(status=LetterStatus.DRAFT).first() or start(case)
    saved = save(case, letter, plan=plan)

    html = render_letter_html(letter_content(saved, on=date(2026, 3, 2), draft=True))

    assert escape(saved.plan) in html
    assert "<script" not in html


# Pages


def _client(client, user, *, second_factor=True):
    return sign_in(client, user, second_factor=second_factor)


def test_the_whole_path_through_the_pages(client, case):
    encounter = case["encounter"]
    _client(client, case["clinician"])

    encounter_page = client.get(f"/records/encounters/{encounter.pk}/").content.decode()
    assert "Write a letter" in encounter_page
    new = client.get(f"/records/encounters/{encounter.pk}/letters/new/")
    assert new.status_code == 200
    assert 'name="to_gp" id="id_to_gp" checked' in new.content.decode()
    started = client.post(
        f"/records/encounters/{encounter.pk}/letters/new/",
        {"to_gp": "on", "to_referrer": "on", "copy_to_patient": "on"},
    )
    letter = Letter.objects.get()
    assert started.url == f"/records/letters/{letter.pk}/"
    edit = client.get(started.url).content.decode()
    assert "Ada Lovelace" in edit
    assert "DRAFT: NOT SENT" in edit
    assert "<iframe" not in edit
    saved = client.post(
        started.url,
        {
            "to_gp": "on",
            "copy_to_patient": "on",
            "plan": PLAN,
            "comments": SCRIPT,
            "updated_at": letter.updated_at.isoformat(),
            "then": "send",
        },
    )
    assert saved.url == f"/records/letters/{letter.pk}/send/"
    confirm = client.get(saved.url).content.decode()
    assert escape(SCRIPT) in confirm
    assert SCRIPT not in confirm
    draft_pdf = client.get(f"/records/letters/{letter.pk}/pdf/")
    assert (
        draft_pdf["Content-Disposition"] == f'attachment; filename="letter-{letter.pk}-draft.pdf"'
    )
    letter.refresh_from_db()
    sent = client.post(saved.url, {"updated_at": letter.updated_at.isoformat()})
    assert sent.url == f"/records/letters/{letter.pk}/"
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT
    assert not letter.to_referrer
    pdf = client.get(f"/records/letters/{letter.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="letter-{letter.pk}.pdf"'
    assert "no-store" in pdf["Cache-Control"]
    assert pdf.content == bytes(letter.pdf)
    shown = client.get(sent.url).content.decode()
    assert "The letter as sent" in shown
    assert "Sent" in shown
    exports = AuditEntry.objects.filter(object_type="letter", action="export").order_by("pk")
    assert list(exports.values_list("detail", flat=True)) == [
        "PDF downloaded (draft)",
        "PDF downloaded (sent)",
    ]


def test_a_draft_encounter_has_no_letter_button_and_its_letter_page_answers_409(client, case):
    draft = signed_encounter(
        patient=case["patient"], clinician=case["clinician"], site=case["site"], signed=False
    )
    _client(client, case["clinician"])

    page = client.get(f"/records/encounters/{draft.pk}/").content.decode()
    new = client.get(f"/records/encounters/{draft.pk}/letters/new/")
    posted = client.post(f"/records/encounters/{draft.pk}/letters/new/", {"copy_to_patient": "on"})

    assert "Write a letter" not in page
    assert new.status_code == 409
    assert escape(letters.ENCOUNTER_NOT_SIGNED) in new.content.decode()
    assert posted.status_code == 409
    assert not Letter.objects.exists()


def test_a_refused_start_shows_the_message_beside_the_choice(client, case):
    patient = case["patient"]
    patient.consents_to_gp_letters = False
    patient.save()
    _client(client, case["clinician"])

    response = client.post(
        f"/records/encounters/{case['encounter'].pk}/letters/new/", {"to_gp": "on"}
    )

    assert response.status_code == 400
    assert escape(letters.GP_CONSENT_WITHDRAWN) in response.content.decode()
    assert "the patient does not consent" in response.content.decode()
    assert not Letter.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"plan": "a\x00b"}, NUL_CHARACTER),
        ({"plan": "x" * (letters.PLAN_MAX_LENGTH + 1)}, letters.PLAN_TOO_LONG),
        ({"comments": "x" * (letters.COMMENTS_MAX_LENGTH + 1)}, letters.COMMENTS_TOO_LONG),
        ({"updated_at": ""}, OUT_OF_DATE),
        ({"updated_at": "yesterday"}, OUT_OF_DATE),
        ({"updated_at": "2026-01-01T10:00:00"}, OUT_OF_DATE),  # naive
        ({"to_gp": "", "to_referrer": "", "copy_to_patient": ""}, letters.NO_ADDRESSEE),
    ],
)
def test_bad_input_on_the_page_is_refused_with_its_message(client, case, changes, message):
    letter = save(case, start(case))
    _client(client, case["clinician"])
    form = {
        "to_gp": "on",
        "to_referrer": "on",
        "copy_to_patient": "on",
        "plan": "New plan",
        "comments": "",
        "updated_at": letter.updated_at.isoformat(),
    }
    # An unticked box is not sent at all.
    form = {k: v for k, v in (form | changes).items() if v or k not in ADDRESSING_FIELDS}

    response = client.post(f"/records/letters/{letter.pk}/", form)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert Letter.objects.get().plan == PLAN


def test_a_stale_save_on_the_page_keeps_the_writers_text_beside_the_saved_one(client, case):
    opened = start(case)
    save(case, opened, plan="Saved elsewhere")
    _client(client, case["clinician"])

    response = client.post(
        f"/records/letters/{opened.pk}/",
        {"copy_to_patient": "on", "plan": "Mine", "updated_at": opened.updated_at.isoformat()},
    )

    page = response.content.decode()
    assert response.status_code == 409
    assert "Saved elsewhere" in page
    assert "Mine</textarea>" in page
    assert Letter.objects.get().plan == "Saved elsewhere"


def test_a_colleague_reads_a_draft_but_cannot_change_it(client, case):
    letter = save(case, start(case))
    colleague = factories.user(role=Role.CLINICIAN, full_name="Dr Colleague")
    _client(client, colleague)

    page = client.get(f"/records/letters/{letter.pk}/")
    posted = client.post(
        f"/records/letters/{letter.pk}/",
        {"copy_to_patient": "on", "plan": "Mine", "updated_at": letter.updated_at.isoformat()},
    )
    send_page = client.get(f"/records/letters/{letter.pk}/send/").content.decode()

    assert page.status_code == 200
    assert "<textarea" not in page.content.decode()
    assert "only Dr Ann Author, who started it" in page.content.decode()
    assert posted.status_code == 403
    assert "Mine" in posted.content.decode()  # kept to copy
    assert "Only Dr Ann Author, who started this letter, can send it." in send_page
    assert Letter.objects.get().plan == PLAN


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_letter_pages_refuse_everyone_but_clinicians(client, case, staff, role):
    letter = save(case, start(case))
    user = case["patient"].user if role == Role.PATIENT else staff[role]
    _client(client, user, second_factor=role != Role.PATIENT)
    before = last_audit_pk()
    form = {"copy_to_patient": "on", "plan": "Mine", "updated_at": letter.updated_at.isoformat()}

    responses = [
        client.get(f"/records/encounters/{case['encounter'].pk}/letters/new/"),
        client.post(f"/records/encounters/{case['encounter'].pk}/letters/new/", form),
        client.get(f"/records/letters/{letter.pk}/"),
        client.post(f"/records/letters/{letter.pk}/", form),
        client.get(f"/records/letters/{letter.pk}/pdf/"),
        client.get(f"/records/letters/{letter.pk}/send/"),
        client.post(f"/records/letters/{letter.pk}/send/", form),
    ]

    # Asked for by an encounter's or a letter's id: its existence is told to no one but
    # clinicians (404), staff included.
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert PLAN not in "".join(r.content.decode(errors="replace") for r in responses)
    assert Letter.objects.count() == 1
    assert Letter.objects.get().plan == PLAN
    assert set(AuditEntry.objects.filter(pk__gt=before).values_list("outcome", flat=True)) == {
        "refused"
    }


def test_unknown_letters_are_not_found(client, case):
    _client(client, case["clinician"])

    assert client.get("/records/letters/999999/").status_code == 404
    assert client.get("/records/letters/999999/pdf/").status_code == 404
    assert client.post("/records/letters/999999/send/", {"updated_at": "x"}).status_code == 404
    assert client.get("/records/encounters/999999/letters/new/").status_code == 404


def test_the_patient_page_lists_letters_to_clinicians_only(client, case):
    sent_letter(case)
    patient = case["patient"]

    as_clinician = _client(client, case["clinician"]).get(f"/records/patients/{patient.pk}/")
    client.logout()
    as_reception = _client(client, case["reception"]).get(f"/records/patients/{patient.pk}/")

    assert "patient-letters-heading" in as_clinician.content.decode()
    assert "patient-letters-heading" not in as_reception.content.decode()


def test_the_encounters_letters_take_a_fixed_number_of_queries(case, django_assert_num_queries):
    for _ in range(3):
        start(case, user=factories.user(role=Role.CLINICIAN))
    context = context_of(case["clinician"])

    with django_assert_num_queries(2):  # the letters with their authors, one audit entry
        listed = letter_selectors.letters_of_encounter(context=context, encounter=case["encounter"])

    assert len(listed) == 3


def test_the_audit_trail_holds_no_clinical_content(client, case):
    letter = sent_letter(case)
    _client(client, case["clinician"])
    client.get(f"/records/letters/{letter.pk}/")
    client.get(f"/records/letters/{letter.pk}/pdf/")

    details = " ".join(
        AuditEntry.objects.filter(patient=case["patient"]).values_list("detail", flat=True)
    )
    for word in (*CLINICAL_WORDS, PLAN, "Lovelace", "Gee Pee"):
        assert word.lower() not in details.lower()


FORM_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["on", "", "\x00", "2026-01-01T10:00:00+00:00", "x" * 10_001, SCRIPT]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["new", "edit", "send"]),
    body=st.dictionaries(
        st.sampled_from([*ADDRESSING_FIELDS, "plan", "comments", "updated_at", "then"]),
        FORM_VALUES,
        max_size=7,
    ),
)
def test_no_form_input_gives_a_500(client, case, path, body):
    letter = Letter.objects.filter(status=LetterStatus.DRAFT).first() or start(case)
    _client(client, case["clinician"])
    url = {
        "new": f"/records/encounters/{case['encounter'].pk}/letters/new/",
        "edit": f"/records/letters/{letter.pk}/",
        "send": f"/records/letters/{letter.pk}/send/",
    }[path]

    response = client.post(url, body)

    assert response.status_code < 500
