"""The patient's letters on /my/: only letters sent with a copy to them, as sent (HTML and
PDF); drafts, letters not copied to them and other patients' letters are answered 404; every
read and download is audited."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import letter_selectors
from clinic.records.models import Letter
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_letters import (
    PLAN,
    last_audit_pk,
    record_case,
    save,
    send,
    sent_letter,
    signed_encounter,
    start,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(db, staff, patient_user):
    return record_case(patient_user=patient_user, staff=staff)


@pytest.fixture
def theirs(case):
    """A letter sent about another patient, with a copy to them."""
    other = factories.patient(
        user=factories.user(role=Role.PATIENT), address="9 Other Road", given_name="Olive"
    )
    other_case = case | {
        "patient": other,
        "encounter": signed_encounter(
            patient=other, clinician=case["clinician"], site=case["site"]
        ),
    }
    return send(other_case, save(other_case, start(other_case)))


def _patient_client(client, case):
    return sign_in(client, case["patient"].user, second_factor=False)


def test_my_record_lists_only_the_letters_sent_with_a_copy_to_me(client, case, theirs):
    mine = sent_letter(case)
    not_copied = sent_letter(case, to_gp=True, to_referrer=False, copy_to_patient=False)
    draft = start(case, user=factories.user(role=Role.CLINICIAN))
    _patient_client(client, case)

    page = client.get("/my/").content.decode()

    assert "Your letters" in page
    assert f"/my/letters/{mine.pk}/" in page
    assert f"/my/letters/{mine.pk}/pdf/" in page
    for hidden in (not_copied, draft, theirs):
        assert f"/my/letters/{hidden.pk}/" not in page
    entry = AuditEntry.objects.get(object_type="letter", detail__contains="own copies")
    assert (entry.actor, entry.patient, entry.detail) == (
        case["patient"].user,
        case["patient"],
        "1 letters listed (own copies)",
    )


def test_i_read_my_letter_as_sent_and_download_its_pdf(client, case):
    letter = sent_letter(case)
    _patient_client(client, case)
    before = last_audit_pk()

    page = client.get(f"/my/letters/{letter.pk}/")
    pdf = client.get(f"/my/letters/{letter.pk}/pdf/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Ada Lovelace" in html
    assert escape(PLAN) in html
    assert "Download PDF" in html
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="letter-{letter.pk}.pdf"'
    assert "no-store" in pdf["Cache-Control"]
    assert pdf.content == bytes(Letter.objects.get(pk=letter.pk).pdf)
    assert pdf.content.startswith(b"%PDF-")
    entries = AuditEntry.objects.filter(pk__gt=before, object_type="letter").order_by("pk")
    assert list(entries.values_list("action", "outcome", "detail", "patient")) == [
        ("read", "allowed", "letter read (own copy)", case["patient"].pk),
        ("export", "allowed", "PDF downloaded (own copy)", case["patient"].pk),
    ]


def test_drafts_letters_not_copied_to_me_and_other_patients_letters_are_404(client, case, theirs):
    not_copied = sent_letter(case, to_gp=True, to_referrer=False, copy_to_patient=False)
    colleague = factories.user(role=Role.CLINICIAN)
    draft = save(case, start(case, user=colleague), user=colleague)
    _patient_client(client, case)
    before = last_audit_pk()
    asked = [not_copied.pk, draft.pk, theirs.pk, 999_999]

    responses = [client.get(f"/my/letters/{pk}/") for pk in asked]
    responses += [client.get(f"/my/letters/{pk}/pdf/") for pk in asked]

    assert [r.status_code for r in responses] == [404] * len(responses)
    assert PLAN not in "".join(r.content.decode(errors="replace") for r in responses)
    refusals = AuditEntry.objects.filter(pk__gt=before)
    assert refusals.count() == len(responses)
    assert set(refusals.values_list("outcome", "detail")) == {
        ("refused", "not the patient's own copy")
    }


def test_staff_do_not_read_letters_through_the_patients_pages(client, case, staff):
    letter = sent_letter(case)

    for user in (case["clinician"], staff[Role.RECEPTION], staff[Role.ADMIN]):
        sign_in(client, user)
        assert client.get(f"/my/letters/{letter.pk}/").status_code == 404
        assert client.get(f"/my/letters/{letter.pk}/pdf/").status_code == 404
        client.logout()


def test_signed_out_visitors_are_sent_to_sign_in(client, case):
    letter = sent_letter(case)

    response = client.get(f"/my/letters/{letter.pk}/")

    assert response.status_code == 302
    assert "/accounts/" in response.url or "sign-in" in response.url


def test_a_patient_without_letters_sees_that_there_are_none(client, case):
    _patient_client(client, case)

    page = client.get("/my/").content.decode()

    assert "Your letters" in page
    assert "No letters yet." in page
    assert not AuditEntry.objects.filter(object_type="letter").exists()


def test_my_letters_take_one_query_however_many(case, django_assert_num_queries):
    for _ in range(3):
        sent_letter(case)
    user = case["patient"].user
    context = context_of(user)

    with django_assert_num_queries(2):  # the letters with author and site, one audit entry
        listed = letter_selectors.my_letters(context=context, patient=case["patient"])

    assert len(listed) == 3
    clinician = context_of(case["clinician"])
    assert letter_selectors.my_letters(context=clinician, patient=case["patient"]) == []
