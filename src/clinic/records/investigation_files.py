"""Reports attached to an investigation (a PDF, or a PNG or JPEG image of the report): the
checks an upload passes, attaching it, and reading it back for the download view.

An upload is accepted by what it contains, never by its name: a PDF by its signature, an
image by Pillow reading it whole (a truncated or forged image, or one that would decompress to
a huge picture, is refused); without Pillow, by the image's signature. At most
REPORT_MAX_BYTES. The uploader's file name is kept for display only, without folders or
control characters and with the extension of the type found; on disk the file gets a random
name under a private root (models.investigation.reports_root: var/, never MEDIA_ROOT or
STATIC_ROOT) and has no URL. Clinicians only, as for the investigation (404 by id for anyone
else); attaching and downloading are audited (a download as an export), ids and sizes only.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
import warnings
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.enquiries.uploads import display_name
from clinic.records.investigation_rules import InvestigationRefused
from clinic.records.investigations import (
    check_clinician,
    found_investigation,
    not_found,
    refusals_audited,
)
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import Investigation, InvestigationAttachment, InvestigationStatus
from clinic.records.models.investigation import report_storage

logger = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024
# An operational bound: a scanned report of a few pages is well under it.
REPORT_MAX_BYTES = 20 * MEGABYTE
ATTACHMENTS_MAX = 20  # per investigation
PDF = InvestigationAttachment.ContentType.PDF
PNG = InvestigationAttachment.ContentType.PNG
JPEG = InvestigationAttachment.ContentType.JPEG
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
)
PILLOW_FORMATS: dict[str, str] = {PNG: "PNG", JPEG: "JPEG"}
EXTENSIONS: dict[str, str] = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}

NO_FILE = "Choose the report to attach: a PDF, PNG or JPEG file."
EMPTY_FILE = "The file {name} is empty."
TOO_LARGE = "The file {name} is larger than {limit} MB. Attach a smaller copy."
WRONG_TYPE = (
    "The file {name} is not a PDF, PNG or JPEG (the file's content is checked, not its name)."
)
UNREADABLE_IMAGE = "The file {name} is not an image that can be read: it may be damaged."
CANCELLED = "This investigation was cancelled: attach the report to the one ordered instead."
TOO_MANY = f"An investigation can have at most {ATTACHMENTS_MAX} reports attached."

_audit = partial(audit_object, object_type="investigation_attachment")


class AttachmentNotFound(Exception):  # noqa: N818 - reads as the event
    """No attached report has that identifier."""


@dataclass(frozen=True)
class CheckedReport:
    """An upload that passed the checks, with its type found by content."""

    file: UploadedFile[bytes]
    display_name: str
    content_type: str
    size_bytes: int
    sha256: str


def max_bytes() -> int:
    return int(getattr(settings, "INVESTIGATION_REPORT_MAX_BYTES", REPORT_MAX_BYTES))


def _sniffed(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def _image_readable(upload: IO[bytes], content_type: str) -> bool:
    """Pillow reads the image whole as the type its signature claims; a decompression bomb
    counts as unreadable. Without Pillow, the signature alone decides."""
    try:
        from PIL import Image  # noqa: PLC0415 - optional: Pillow may not be installed
    except ImportError:  # pragma: no cover - Pillow is in the lock file
        return True
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                if image.format != PILLOW_FORMATS[content_type]:
                    return False
                image.verify()
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image.load()  # verify() skips the pixel data; a truncated file fails here
    except Exception:  # Pillow raises many kinds for a bad file: all of them mean no
        return False
    finally:
        upload.seek(0)
    return True


def check_report(upload: Any) -> CheckedReport:
    """Accept a PDF, PNG or JPEG within the size limit, by its content; raises
    InvestigationRefused (field "report")."""
    if not isinstance(upload, UploadedFile):
        raise InvestigationRefused(NO_FILE, field="report")
    name = display_name(upload.name or "")
    size = upload.size or 0
    if size == 0:
        raise InvestigationRefused(EMPTY_FILE.format(name=name), field="report")
    if size > max_bytes():
        limit = f"{max_bytes() / MEGABYTE:.3g}"
        raise InvestigationRefused(TOO_LARGE.format(name=name, limit=limit), field="report")
    upload.seek(0)
    content_type = _sniffed(upload.read(16))
    if content_type is None:
        raise InvestigationRefused(WRONG_TYPE.format(name=name), field="report")
    if content_type in PILLOW_FORMATS and not _image_readable(upload, content_type):
        raise InvestigationRefused(UNREADABLE_IMAGE.format(name=name), field="report")
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    # The uploader's name for display only, with the extension of the type found.
    shown = display_name(upload.name or "", content_type)
    return CheckedReport(upload, shown, content_type, size, digest.hexdigest())


def attachment_add(
    *, context: AuditContext, investigation_id: int, upload: Any
) -> InvestigationAttachment:
    """Attach a report to an investigation (any clinician; not to a cancelled one). Raises
    InvestigationNotFound, InvestigationRefused or AccessRefused, all audited. The file is
    written inside the transaction and removed again if the write fails."""
    found = found_investigation(context, investigation_id, AuditAction.UPDATE)
    patient = found.patient
    clinician = check_clinician(context, patient, AuditAction.UPDATE, found, by_id=True)
    stored = ""
    with refusals_audited(context, AuditAction.UPDATE, found, patient):
        refuse_if_merged(patient, InvestigationRefused)
        checked = check_report(upload)
        try:
            with transaction.atomic():
                lock_unmerged(patient.pk, InvestigationRefused)
                locked = Investigation.objects.select_for_update().get(pk=found.pk)
                _check_can_attach(locked)
                stored = report_storage().save(f"investigations/{uuid.uuid4().hex}", checked.file)
                attachment = InvestigationAttachment.objects.create(
                    investigation=locked,
                    file=stored,
                    original_name=checked.display_name,
                    content_type=checked.content_type,
                    size_bytes=checked.size_bytes,
                    sha256=checked.sha256,
                    uploaded_by=clinician,
                )
                detail = (
                    f"report attached to investigation {locked.pk} ({checked.size_bytes} bytes)"
                )
                _audit(context, AuditAction.CREATE, attachment, patient, detail)
        except BaseException:
            if stored:  # written, then rolled back: no file without its row
                report_storage().delete(stored)
            raise
    return attachment


def _check_can_attach(investigation: Investigation) -> None:
    if investigation.status == InvestigationStatus.CANCELLED:
        raise InvestigationRefused(CANCELLED, status=409)
    if investigation.attachments.count() >= ATTACHMENTS_MAX:
        raise InvestigationRefused(TOO_MANY, status=409)


def attachment_for_download(
    *, context: AuditContext, attachment_id: int
) -> InvestigationAttachment:
    """An attached report with its investigation and patient, for a clinician: an audited
    export. Raises AttachmentNotFound or AccessRefused (404: asked for by its id, its
    existence is told to clinicians only), both audited."""
    found = (
        InvestigationAttachment.objects.select_related("investigation__patient")
        .filter(pk=attachment_id)
        .first()
    )
    if found is None:
        not_found(context, "investigation_attachment", attachment_id, AuditAction.EXPORT)
        raise AttachmentNotFound
    patient = found.investigation.patient
    check_clinician(context, patient, AuditAction.READ, found.investigation, by_id=True)
    detail = f"report {found.pk} of investigation {found.investigation_id} downloaded"
    _audit(context, AuditAction.EXPORT, found, patient, detail)
    return found


def download_name(attachment: InvestigationAttachment) -> str:
    """The name a download is saved as: ids only, never the patient's or the uploader's."""
    extension = EXTENSIONS.get(attachment.content_type, "")
    return f"investigation-{attachment.investigation_id}-report-{attachment.pk}{extension}"
