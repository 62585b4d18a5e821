"""Files people attach as evidence or to show a fault: photos and PDFs, recognised by their first bytes."""

from __future__ import annotations

from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.text import clean_text

__all__ = ["MAX_BYTES", "TYPES", "check_file", "safe_name"]

#: Accepted types and the bytes each starts with (the declared type must agree with them).
TYPES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",),
         "image/webp": (b"RIFF",), "application/pdf": (b"%PDF-",)}
MAX_BYTES = 5 * 1024 * 1024


def check_file(content_type: str, data: bytes, what: str) -> str:
    """The file's type, once its first bytes agree with it and its size is allowed; refused otherwise with
    ``{what}.attachment_type`` or ``{what}.attachment_too_large``."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in TYPES:
        raise InvalidInput(f"{what}.attachment_type", "attach photos (JPEG, PNG, WebP) or PDF documents",
                           field="content_type")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{what}.attachment_too_large", f"an attachment is at most {MAX_BYTES // 2**20} MB")
    if not data or not data.startswith(TYPES[content_type]) or (
            content_type == "image/webp" and data[8:12] != b"WEBP"):
        raise InvalidInput(f"{what}.attachment_type", f"the file is not a {content_type} file", field="content_type")
    return content_type


def safe_name(filename: str) -> str:
    return clean_text(filename or "attachment", "filename", 200).replace("/", "_").replace("\\", "_")
