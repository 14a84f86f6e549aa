"""Reports attached to investigations: accepted by content (a PDF's signature, an image that
Pillow reads whole), within a size limit, with a sanitised display name; stored under a
private root in var/ that is neither media nor static and has no URL; downloaded only through
a view that checks permission and audits the export, as an attachment with nosniff. Anything
else is refused with nothing written and no file left behind."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import investigation_files, investigations
from clinic.records.access import AccessRefused
from clinic.records.investigation_rules import InvestigationRefused
from clinic.records.models import InvestigationAttachment, Patient
from clinic.records.models.investigation import report_storage, reports_root
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_investigations import BORN, order
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _image(kind: str, size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format=kind)
    return buffer.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path) -> Path:
    """Reports go to a temporary private root for each test."""
    root = tmp_path / "private" / "investigation-reports"
    settings.INVESTIGATION_REPORTS_ROOT = root
    return root


@pytest.fixture
def unit(db, staff):
    patient_user = factories.user(role=Role.PATIENT)
    return {
        "clinician": factories.user(role=Role.CLINICIAN, full_name="Dr Ann"),
        "patient": factories.patient(user=patient_user, date_of_birth=BORN),
        "patient_user": patient_user,
        "staff": staff,
    }


def _upload(content: bytes, name: str = "report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _attach(unit, investigation, upload, *, user=None) -> InvestigationAttachment:
    return investigation_files.attachment_add(
        context=context_of(user or unit["clinician"]),
        investigation_id=investigation.pk,
        upload=upload,
    )


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# Accepted


@pytest.mark.parametrize(
    ("content", "name", "content_type", "shown"),
    [
        (PDF, "MRI report.pdf", "application/pdf", "MRI report.pdf"),
        (PNG, "scan.PNG", "image/png", "scan.png"),
        (JPEG, "photo.jpeg", "image/jpeg", "photo.jpg"),
        (PDF, "report.exe", "application/pdf", "report.pdf"),  # the type found, not the name
        (PNG, "../../etc/passwd", "image/png", "passwd.png"),
        (PDF, "C:\\Users\\me\\lab\u202e.pdf", "application/pdf", "lab.pdf"),
    ],
)
def test_a_report_is_accepted_by_content_and_stored_privately(  # noqa: PLR0917 - fixtures and parameters
    unit, private_root, content, name, content_type, shown
):
    attachment = _attach(unit, order(unit, "mri"), _upload(content, name))

    assert (attachment.content_type, attachment.original_name) == (content_type, shown)
    assert attachment.size_bytes == len(content)
    [stored] = _files(private_root)
    assert stored.read_bytes() == content
    assert stored.name not in shown  # a random name on disk
    assert Path(attachment.file.path) == stored


def test_the_private_root_is_neither_media_nor_static_and_has_no_url(settings):
    settings.INVESTIGATION_REPORTS_ROOT = None
    root = reports_root().resolve()

    assert root == (Path(django_settings.VAR_DIR) / "private" / "investigation-reports").resolve()
    for served in (django_settings.MEDIA_ROOT, django_settings.STATIC_ROOT):
        assert not root.is_relative_to(Path(served).resolve())
        assert not Path(served).resolve().is_relative_to(root)
    with pytest.raises(ValueError, match="no URL"):
        report_storage().url("investigations/x")


# Refused, with nothing written


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")  # 400 megapixels, tiny file
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.pdf", investigation_files.EMPTY_FILE.format(name="empty.pdf")),
        (b"<html><script>alert(1)</script>", "x.pdf", None),
        (b"MZ\x90\x00 an executable", "report.pdf", None),
        (b"GIF89a\x01\x00\x01\x00", "anim.gif", None),
        (b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10, "fake.png", None),
        (b"\xff\xd8\xff" + b"\x00" * 100, "fake.jpg", None),
        (PNG[: len(PNG) // 2], "truncated.png", None),
        (_bomb(), "bomb.png", None),
    ],
)
def test_a_bad_file_is_refused_and_nothing_written(unit, private_root, content, name, message):
    ordered = order(unit, "mri")

    with pytest.raises(InvestigationRefused) as refused:
        _attach(unit, ordered, _upload(content, name))

    assert refused.value.field == "report"
    if message:
        assert refused.value.message == message
    assert not InvestigationAttachment.objects.exists()
    assert _files(private_root) == []
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.outcome, entry.object_type) == ("refused", "investigation")


def test_a_file_over_the_limit_is_refused(unit, private_root, settings):
    settings.INVESTIGATION_REPORT_MAX_BYTES = len(PDF) - 1

    with pytest.raises(InvestigationRefused) as refused:
        _attach(unit, order(unit, "mri"), _upload(PDF))

    assert refused.value.message.startswith("The file report.pdf is larger than")
    assert not InvestigationAttachment.objects.exists()
    assert _files(private_root) == []


@pytest.mark.parametrize("upload", [None, "report.pdf", b"%PDF-"])
def test_something_that_is_not_a_file_is_refused(unit, upload):
    with pytest.raises(InvestigationRefused) as refused:
        _attach(unit, order(unit, "mri"), upload)

    assert refused.value.message == investigation_files.NO_FILE


def test_a_cancelled_investigation_takes_no_report(unit, private_root):
    ordered = order(unit, "mri")
    investigations.investigation_cancel(
        context=context_of(unit["clinician"]), investigation_id=ordered.pk, reason="Not needed"
    )

    with pytest.raises(InvestigationRefused) as refused:
        _attach(unit, ordered, _upload(PDF))

    assert (refused.value.message, refused.value.status) == (investigation_files.CANCELLED, 409)
    assert _files(private_root) == []


def test_a_failed_write_leaves_no_file(unit, private_root, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(InvestigationAttachment.objects, "create", broken)

    with pytest.raises(RuntimeError):
        _attach(unit, order(unit, "mri"), _upload(PDF))

    assert _files(private_root) == []


def test_a_merged_record_takes_no_report(unit, private_root):
    ordered = order(unit, "mri")
    keep = factories.patient(date_of_birth=BORN)
    Patient.objects.filter(pk=unit["patient"].pk).update(merged_into=keep, merged_at=timezone.now())

    with pytest.raises(InvestigationRefused) as refused:
        _attach(unit, ordered, _upload(PDF))

    assert refused.value.status == 409
    assert not InvestigationAttachment.objects.exists()
    assert _files(private_root) == []


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_only_clinicians_attach(unit, private_root, role):
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]

    with pytest.raises(AccessRefused) as refused:
        _attach(unit, order(unit, "mri"), _upload(PDF), user=user)

    assert refused.value.reveal is False
    assert _files(private_root) == []


# Through the pages


def _detail_url(investigation) -> str:
    return f"/records/investigations/{investigation.pk}/"


def test_the_page_attaches_a_report_and_downloads_it_as_an_audited_attachment(client, unit):
    ordered = order(unit, "mri")
    sign_in(client, unit["clinician"])

    posted = client.post(
        f"{_detail_url(ordered)}reports/new/",
        {"report": _upload(PDF, "<img src=x onerror=alert(1)>.pdf")},
    )
    attachment = InvestigationAttachment.objects.get()
    page = client.get(_detail_url(ordered)).content.decode()
    response = client.get(f"/records/investigation-reports/{attachment.pk}/")

    assert posted.status_code == 302
    assert escape("<img src=x onerror=alert(1)>.pdf") in page
    assert "<img src=x" not in page
    assert attachment.file.name not in page  # the stored name is never shown
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="investigation-{ordered.pk}-report-{attachment.pk}.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    export = AuditEntry.objects.get(action="export")
    assert export.patient == unit["patient"]
    assert export.detail == f"report {attachment.pk} of investigation {ordered.pk} downloaded"


def test_a_bad_upload_on_the_page_is_400_with_the_message(client, unit, private_root):
    ordered = order(unit, "mri")
    sign_in(client, unit["clinician"])

    response = client.post(
        f"{_detail_url(ordered)}reports/new/",
        {"report": _upload(b"<svg onload=alert(1)>", "x.svg")},
    )
    missing = client.post(f"{_detail_url(ordered)}reports/new/", {})

    assert response.status_code == 400
    assert escape(investigation_files.WRONG_TYPE.format(name="x.svg")) in response.content.decode()
    assert missing.status_code == 400
    assert escape(investigation_files.NO_FILE) in missing.content.decode()
    assert _files(private_root) == []


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_nobody_else_downloads_or_attaches(client, unit, role, private_root):
    ordered = order(unit, "mri")
    attachment = _attach(unit, ordered, _upload(PDF))
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    sign_in(client, user)

    download = client.get(f"/records/investigation-reports/{attachment.pk}/")
    upload = client.post(f"{_detail_url(ordered)}reports/new/", {"report": _upload(PDF)})

    assert (download.status_code, upload.status_code) == (404, 404)
    assert InvestigationAttachment.objects.count() == 1
    assert len(_files(private_root)) == 1
    assert not AuditEntry.objects.filter(action="export", outcome="allowed").exists()
    assert AuditEntry.objects.filter(outcome="refused", patient=unit["patient"]).count() >= 2


def test_another_patients_report_is_404_for_a_patient(client, unit, other_patient):
    attachment = _attach(unit, order(unit, "mri"), _upload(PDF))
    sign_in(client, other_patient.user)

    assert client.get(f"/records/investigation-reports/{attachment.pk}/").status_code == 404


def test_a_missing_report_or_file_is_404(client, unit, private_root):
    attachment = _attach(unit, order(unit, "mri"), _upload(PDF))
    for path in _files(private_root):
        path.unlink()
    sign_in(client, unit["clinician"])

    assert client.get("/records/investigation-reports/999999/").status_code == 404
    assert client.get(f"/records/investigation-reports/{attachment.pk}/").status_code == 404
    assert AuditEntry.objects.filter(detail="no such investigation attachment").exists()


def test_the_upload_and_download_are_not_reachable_as_media_or_static(client, unit):
    attachment = _attach(unit, order(unit, "mri"), _upload(PDF))
    sign_in(client, unit["clinician"])

    for prefix in ("/media/", "/static/", "/"):
        assert client.get(f"{prefix}{attachment.file.name}").status_code == 404
