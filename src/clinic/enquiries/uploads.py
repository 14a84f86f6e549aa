"""Checking uploaded documents: type by content (not name), size limits, safe display names."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from clinic.enquiries.models import EnquiryDocument

# File signatures ("magic numbers") of the accepted formats.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", EnquiryDocument.ContentType.PDF),
    (b"\x89PNG\r\n\x1a\n", EnquiryDocument.ContentType.PNG),
    (b"\xff\xd8\xff", EnquiryDocument.ContentType.JPEG),
)
# The extension a downloaded file gets, from the type found by content.
EXTENSIONS: dict[str, str] = {
    EnquiryDocument.ContentType.PDF: ".pdf",
    EnquiryDocument.ContentType.PNG: ".png",
    EnquiryDocument.ContentType.JPEG: ".jpg",
}
# What counts as the sender's own extension, to be replaced ("report.hta"); a dot followed
# by words ("Dr. Smith letter") is part of the name.
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
NAME_MAX_LENGTH = 120
MEGABYTE = 1024 * 1024
EMPTY_FILE = "The file {name} is empty."
TOO_LARGE = "The file {name} is larger than {limit} MB. Please send a smaller copy."
WRONG_TYPE = (
    "The file {name} is not a PDF, PNG or JPEG (we check what a file contains, not its name)."
)
TOO_MANY = "You can send at most {limit} files at a time."
TOO_LARGE_TOGETHER = (
    "The files together are larger than {limit} MB. Please send fewer or smaller files."
)


class UploadRejected(ValueError):  # noqa: N818 - reads as the event
    """A file cannot be accepted; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed the checks, with its sniffed type and fingerprint."""

    file: UploadedFile[bytes]
    display_name: str
    content_type: str
    size_bytes: int
    sha256: str


def max_bytes() -> int:
    return int(settings.ENQUIRY_UPLOAD_MAX_BYTES)


def megabytes(size: int) -> str:
    """A byte limit in MB, for messages: "10", "2.5"."""
    return f"{size / MEGABYTE:.3g}"


def display_name(name: str, content_type: str | None = None) -> str:
    """The file's own name without any folder part, control or format characters, shortened;
    used only for display (files are stored under random names). With the type found by
    content, the extension becomes that type's (report.hta holding a PDF is report.pdf)."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = "".join(
        ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C"
    ).strip(" .")
    extension = EXTENSIONS.get(content_type or "", "")
    if not extension:
        return (cleaned or "document")[:NAME_MAX_LENGTH]
    stem = _EXTENSION.sub("", cleaned).strip(" .") or "document"
    return stem[: NAME_MAX_LENGTH - len(extension)] + extension


def sniff_content_type(head: bytes) -> str | None:
    """The accepted type whose signature the file starts with, or ``None``."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return str(content_type)
    return None


def upload_check(upload: UploadedFile[bytes]) -> CheckedUpload:
    """Accept a PDF, PNG or JPEG within the size limit; raises UploadRejected."""
    name = display_name(upload.name or "")
    size = upload.size or 0
    if size == 0:
        raise UploadRejected(EMPTY_FILE.format(name=name))
    if size > max_bytes():
        raise UploadRejected(TOO_LARGE.format(name=name, limit=megabytes(max_bytes())))
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    if content_type is None:
        raise UploadRejected(WRONG_TYPE.format(name=name))
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    shown = display_name(upload.name or "", content_type)
    return CheckedUpload(upload, shown, content_type, size, digest.hexdigest())


def uploads_check(uploads: list[UploadedFile[bytes]]) -> list[CheckedUpload]:
    """Check every file; raises UploadRejected on the first that fails, or if there are too many."""
    limit = int(settings.ENQUIRY_UPLOAD_MAX_FILES)
    if len(uploads) > limit:
        raise UploadRejected(TOO_MANY.format(limit=limit))
    checked = [upload_check(upload) for upload in uploads]
    total_limit = int(settings.ENQUIRY_UPLOAD_MAX_TOTAL_BYTES)
    if sum(upload.size_bytes for upload in checked) > total_limit:
        raise UploadRejected(TOO_LARGE_TOGETHER.format(limit=megabytes(total_limit)))
    return checked
