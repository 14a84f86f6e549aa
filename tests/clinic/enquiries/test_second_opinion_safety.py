"""Second opinions: downloads named by their real type, no orphaned files, a sender name that
fits, clinical content kept from reception, the inbox audited per patient, and clear answers
for a missing file or a patient account without a record."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.enquiries import services
from clinic.enquiries.models import Enquiry, EnquiryDocument
from clinic.enquiries.uploads import display_name, uploads_check
from clinic.enquiries.views import NO_RECORD
from clinic.records.access import access_write_opinion
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _request(**changes):
    return {
        "question": "Is botulinum toxin still right for me?",
        "current_diagnosis": "Cervical dystonia, made-up diagnosis text",
        "current_treatment": "Toxin every 12 weeks, made-up treatment text",
        "sender_phone": "",
    } | changes


def _file(name="letter.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def _stored_files() -> set[str]:
    try:
        return set(default_storage.listdir("enquiries")[1])
    except FileNotFoundError:
        return set()


@pytest.mark.parametrize(
    ("name", "content", "shown"),
    [
        ("report.hta", PDF, "report.pdf"),
        ("scan.PDF", PNG, "scan.png"),
        ("photo.jpeg", JPEG, "photo.jpg"),
        ("Dr. Smith letter", PDF, "Dr. Smith letter.pdf"),
        ("...", PDF, "document.pdf"),
        ("ü" * 300 + ".exe", PDF, "ü" * 116 + ".pdf"),
    ],
)
def test_the_shown_name_ends_in_the_type_found_by_content(name, content, shown):
    (checked,) = uploads_check([_file(name, content)])

    assert checked.display_name == shown
    assert len(checked.display_name) <= 120


def test_a_file_named_hta_holding_a_pdf_downloads_as_pdf(client, patient_user):
    sign_in(client, patient_user, second_factor=False)
    client.post("/enquiries/second-opinion/", _request(documents=[_file("report.hta")]))
    document = EnquiryDocument.objects.get()

    response = client.get(f"/enquiries/documents/{document.pk}/")
    home = client.get("/my/").content.decode()

    assert document.original_name == "report.pdf"
    assert 'filename="report.pdf"' in response["Content-Disposition"]
    assert "report.pdf" in home
    assert "report.hta" not in home


def test_an_older_document_with_a_wrong_extension_still_downloads_with_the_right_one(
    client, patient_user
):
    sign_in(client, patient_user, second_factor=False)
    client.post("/enquiries/second-opinion/", _request(documents=[_file()]))
    EnquiryDocument.objects.update(original_name="old.hta")
    document = EnquiryDocument.objects.get()

    response = client.get(f"/enquiries/documents/{document.pk}/")

    assert 'filename="old.pdf"' in response["Content-Disposition"]
    assert display_name("old.hta", "application/pdf") == "old.pdf"


def test_a_document_whose_stored_file_is_missing_is_404(client, patient_user):
    sign_in(client, patient_user, second_factor=False)
    client.post("/enquiries/second-opinion/", _request(documents=[_file()]))
    document = EnquiryDocument.objects.get()
    default_storage.delete(document.file.name)

    response = client.get(f"/enquiries/documents/{document.pk}/")

    assert response.status_code == 404


def test_a_201_character_name_is_shortened_to_fit_the_sender_name(client):
    user = factories.user(role=Role.PATIENT)
    factories.patient(user=user, given_name="A" * 100, family_name="B" * 100)
    sign_in(client, user, second_factor=False)

    response = client.post("/enquiries/second-opinion/", _request())

    enquiry = Enquiry.objects.get()
    assert response.status_code == 200
    assert len(enquiry.sender_name) == Enquiry._meta.get_field("sender_name").max_length
    assert enquiry.sender_name == "A" * 100 + " " + "B" * 49


def _boom(*_args, **_kwargs):
    raise RuntimeError("made-up failure")


@pytest.mark.parametrize("failing", ["audit", "document row"])
def test_stored_files_are_deleted_when_the_request_is_not_saved(patient_user, monkeypatch, failing):
    uploads = uploads_check([_file(), _file("scan.png", PNG)])
    before = _stored_files()
    if failing == "audit":  # after every file and row is written
        monkeypatch.setattr(services, "_audit", _boom)
    else:  # after the first file is written, before its row
        monkeypatch.setattr(EnquiryDocument, "save", _boom)

    with pytest.raises(RuntimeError):
        services.second_opinion_submit(
            context=AuditContext(actor=patient_user),
            details=services.SecondOpinionDetails(
                question="Q", current_diagnosis="D", current_treatment="T"
            ),
            uploads=uploads,
        )

    assert _stored_files() == before
    assert not Enquiry.objects.exists()
    assert not EnquiryDocument.objects.exists()


def test_reception_sees_the_request_but_not_its_clinical_content(client, patient_user, staff):
    sign_in(client, patient_user, second_factor=False)
    client.post("/enquiries/second-opinion/", _request(documents=[_file()]))
    enquiry = Enquiry.objects.get()
    clinician = staff[Role.CLINICIAN]
    sign_in(client, staff[Role.RECEPTION])
    client.post(f"/enquiries/{enquiry.pk}/assign/", {"assignee": clinician.pk})
    sign_in(client, clinician)
    client.post(f"/enquiries/{enquiry.pk}/reply/", {"body": "A made-up clinical message."})
    clinician_page = client.get(f"/enquiries/{enquiry.pk}/").content.decode()
    sign_in(client, staff[Role.RECEPTION])

    reception_page = client.get(f"/enquiries/{enquiry.pk}/").content.decode()

    for clinical in (
        "made-up diagnosis text",
        "made-up treatment text",
        "A made-up clinical message.",
    ):
        assert clinical in clinician_page
        assert clinical not in reception_page
    for shown in ("Is botulinum toxin still right for me?", "letter.pdf", clinician.full_name):
        assert shown in reception_page
    assert "Assigned" in reception_page


def test_the_inbox_audits_each_listed_patient(client, staff, patient_user, other_patient):
    for patient in (patient_user.patient_record, other_patient):
        Enquiry.objects.create(
            kind="query",
            sender_name="S",
            sender_email="s@example.org",
            message="m",
            patient=patient,
        )
    Enquiry.objects.create(kind="query", sender_name="T", sender_email="t@example.org", message="m")
    sign_in(client, staff[Role.RECEPTION])

    client.get("/enquiries/inbox/")

    entries = AuditEntry.objects.filter(object_type="enquiry", action="read", outcome="allowed")
    assert set(entries.values_list("patient", flat=True)) == {
        patient_user.patient_record.pk,
        other_patient.pk,
    }
    assert AuditEntry.objects.filter(object_type="enquiry_list").count() == 1


def test_an_inactive_clinician_cannot_write_an_opinion():
    clinician = factories.user(role=Role.CLINICIAN)
    clinician.is_verified = lambda: True
    assert access_write_opinion(clinician, assigned_to_id=clinician.pk)

    clinician.is_active = False

    assert not access_write_opinion(clinician, assigned_to_id=clinician.pk)


def test_a_patient_account_without_a_record_is_told_before_filling_the_form(client):
    user = factories.user(role=Role.PATIENT)
    sign_in(client, user, second_factor=False)

    response = client.get("/enquiries/second-opinion/")
    posted = client.post("/enquiries/second-opinion/", _request())

    page = response.content.decode()
    assert response.status_code == 404
    assert NO_RECORD in page
    assert 'enctype="multipart/form-data"' not in page
    assert posted.status_code == 404
    assert not Enquiry.objects.exists()
    assert AuditEntry.objects.filter(outcome="refused", detail="second opinion refused").exists()


def test_the_upload_help_states_the_limits(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    default = client.get("/enquiries/second-opinion/").content.decode()
    with override_settings(
        ENQUIRY_UPLOAD_MAX_FILES=3,
        ENQUIRY_UPLOAD_MAX_BYTES=5 * 1024 * 1024,
        ENQUIRY_UPLOAD_MAX_TOTAL_BYTES=12 * 1024 * 1024,
    ):
        changed = client.get("/enquiries/second-opinion/").content.decode()

    assert "Up to 5 files, at most 10 MB each and 25 MB together." in default
    assert "Up to 3 files, at most 5 MB each and 12 MB together." in changed
