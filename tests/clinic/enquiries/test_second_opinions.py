"""Second opinions: a patient asks with documents; staff assign a clinician who answers; the
patient reads it. Documents are checked by content and served only through an audited view."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.enquiries.models import Enquiry, EnquiryDocument
from clinic.enquiries.uploads import display_name
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

# Made-up files: just enough of each format for its signature.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32


def _request(**changes):
    return {
        "question": "Is botulinum toxin still right for me?",
        "current_diagnosis": "Cervical dystonia",
        "current_treatment": "Toxin every 12 weeks",
        "sender_phone": "",
    } | changes


def _file(name="letter.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_the_form_shows_urgent_advice_and_needs_a_patient(client, patient_user, staff):
    assert client.get("/enquiries/second-opinion/").status_code == 302
    sign_in(client, staff[Role.RECEPTION])
    assert client.get("/enquiries/second-opinion/").status_code == 403
    sign_in(client, patient_user, second_factor=False)
    assert (
        "Get help now if you have any of these"
        in client.get("/enquiries/second-opinion/").content.decode()
    )


def test_a_patient_asks_with_documents_of_each_type(
    client, patient_user, django_capture_on_commit_callbacks
):
    sign_in(client, patient_user, second_factor=False)
    files = [_file(), _file("scan.png", PNG, "image/png"), _file("emg.jpg", JPEG, "image/jpeg")]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/enquiries/second-opinion/", _request(documents=files))

    enquiry = Enquiry.objects.get()
    assert response.status_code == 200
    assert enquiry.kind == "second_opinion"
    assert enquiry.patient == patient_user.patient_record
    types = sorted(enquiry.documents.values_list("content_type", flat=True))
    assert types == ["application/pdf", "image/jpeg", "image/png"]
    assert all(
        d.file.name.startswith("enquiries/") and "letter" not in d.file.name
        for d in enquiry.documents.all()
    )
    assert mail.outbox[0].to == [patient_user.email]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (_file("report.pdf", EXE), "is not a PDF, PNG or JPEG"),
        (_file("empty.pdf", b""), "The submitted file is empty."),
        (_file("notes.txt", b"hello", "text/plain"), "is not a PDF, PNG or JPEG"),
        (_file("image.png", b"<svg onload=alert(1)>", "image/png"), "is not a PDF, PNG or JPEG"),
    ],
)
def test_bad_documents_are_refused_with_a_message_and_nothing_is_written(
    client, patient_user, upload, message
):
    sign_in(client, patient_user, second_factor=False)

    response = client.post("/enquiries/second-opinion/", _request(documents=[upload]))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Enquiry.objects.exists()
    assert not EnquiryDocument.objects.exists()


@override_settings(ENQUIRY_UPLOAD_MAX_BYTES=1024, ENQUIRY_UPLOAD_MAX_FILES=2)
def test_a_file_over_the_size_limit_is_refused(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    response = client.post(
        "/enquiries/second-opinion/", _request(documents=[_file(content=PDF + b"x" * 2000)])
    )

    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not Enquiry.objects.exists()


@override_settings(ENQUIRY_UPLOAD_MAX_FILES=1)
def test_too_many_files_are_refused(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    response = client.post(
        "/enquiries/second-opinion/", _request(documents=[_file(), _file("b.pdf")])
    )

    assert response.status_code == 400
    assert "at most 1 files" in response.content.decode()


def test_a_100_mb_body_is_refused_before_it_is_read(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    response = client.post(
        "/enquiries/second-opinion/",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(100 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Enquiry.objects.exists()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("report\x00.pdf", "report.pdf"),
        ("right\u202eftp.pdf", "rightftp.pdf"),
        ("", "document"),
        ("ü" * 300, "ü" * 120),
    ],
)
def test_file_names_are_only_shown_never_used_as_paths(name, shown):
    assert display_name(name) == shown


def test_missing_fields_are_refused(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    response = client.post("/enquiries/second-opinion/", _request(question=""))

    assert response.status_code == 400
    assert not Enquiry.objects.exists()


def _asked(client, patient_user):
    sign_in(client, patient_user, second_factor=False)
    client.post("/enquiries/second-opinion/", _request(documents=[_file()]))
    return Enquiry.objects.get()


def test_the_whole_journey_staff_assign_a_clinician_who_answers_and_the_patient_reads(
    client, patient_user, staff, django_capture_on_commit_callbacks
):
    enquiry = _asked(client, patient_user)
    clinician = staff[Role.CLINICIAN]
    sign_in(client, staff[Role.RECEPTION])
    reception_view = client.get(f"/enquiries/{enquiry.pk}/").content.decode()
    refused = client.post(
        f"/enquiries/{enquiry.pk}/assign/", {"assignee": staff[Role.RECEPTION].pk}
    )
    client.post(f"/enquiries/{enquiry.pk}/assign/", {"assignee": clinician.pk})
    sign_in(client, clinician)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/enquiries/{enquiry.pk}/opinion/",
            {"opinion": "Continue toxin; consider EMG guidance."},
        )
    sign_in(client, patient_user, second_factor=False)

    page = client.get(f"/enquiries/{enquiry.pk}/").content.decode()

    assert "letter.pdf" in reception_view
    assert 'href="/enquiries/documents/' not in reception_view  # documents are clinical
    assert refused.status_code == 400  # a second opinion goes to a clinician
    assert "Continue toxin; consider EMG guidance." in page
    assert "Continue toxin" not in mail.outbox[0].body
    enquiry.refresh_from_db()
    assert (enquiry.status, enquiry.opinion_by) == ("answered", clinician)


def test_only_the_assigned_clinician_writes_the_opinion(client, patient_user, staff):
    enquiry = _asked(client, patient_user)
    other_clinician = factories.user(role=Role.CLINICIAN)
    sign_in(client, other_clinician)

    response = client.post(f"/enquiries/{enquiry.pk}/opinion/", {"opinion": "Mine"})

    enquiry.refresh_from_db()
    assert response.status_code == 403
    assert enquiry.opinion == ""
    assert AuditEntry.objects.filter(
        object_type="enquiry", outcome="refused", detail="opinion refused"
    ).exists()


def test_documents_download_for_the_patient_and_clinicians_only_and_are_audited(
    client, patient_user, staff
):
    enquiry = _asked(client, patient_user)
    document = enquiry.documents.get()
    url = f"/enquiries/documents/{document.pk}/"

    own = client.get(url)
    sign_in(client, staff[Role.CLINICIAN])
    clinician = client.get(url)
    sign_in(client, staff[Role.RECEPTION])
    reception = client.get(url)

    assert own.status_code == 200
    assert b"".join(own.streaming_content) == PDF
    assert own["Content-Type"] == "application/pdf"
    assert own["Content-Disposition"].startswith("attachment")
    assert own["X-Content-Type-Options"] == "nosniff"
    assert clinician.status_code == 200
    assert reception.status_code == 403
    outcomes = list(
        AuditEntry.objects.filter(object_type="document").values_list("outcome", flat=True)
    )
    assert sorted(outcomes) == ["allowed", "allowed", "refused"]


def test_a_patient_editing_the_url_to_another_patients_document_is_refused(
    client, patient_user, other_patient
):
    enquiry = _asked(client, patient_user)
    document = enquiry.documents.get()
    sign_in(client, other_patient.user, second_factor=False)

    response = client.get(f"/enquiries/documents/{document.pk}/")

    assert response.status_code == 404
    entry = AuditEntry.objects.get(object_type="document", outcome="refused")
    assert entry.patient == patient_user.patient_record
    assert entry.actor == other_patient.user


def test_a_missing_document_is_404(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    assert client.get("/enquiries/documents/999999/").status_code == 404


def test_the_patient_home_page_lists_queries_opinions_documents_and_appointments(
    client, patient_user
):
    enquiry = _asked(client, patient_user)

    page = client.get("/my/").content.decode()

    assert "Upcoming appointments" in page
    assert "You have no upcoming appointments" in page
    assert enquiry.reference in page
    assert "letter.pdf" in page
    assert "See who has accessed your record" in page


@override_settings(ENQUIRY_UPLOAD_MAX_BYTES=2048, ENQUIRY_UPLOAD_MAX_TOTAL_BYTES=3000)
def test_files_over_the_total_limit_are_refused(client, patient_user):
    sign_in(client, patient_user, second_factor=False)
    big = PDF + b"x" * 1500

    response = client.post(
        "/enquiries/second-opinion/", _request(documents=[_file(content=big), _file("b.pdf", big)])
    )

    assert response.status_code == 400
    assert "together are larger than" in response.content.decode()
    assert not Enquiry.objects.exists()
