"""Checks on an uploaded file before it is recorded: its type by name and MIME type, its size, and whether its
bytes really start like that type. Pure: no database here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from db.filing.workflow import FILE_TYPES, FileType, Material, Workflow


@dataclass(frozen=True)
class UploadCheck:
    """The verdict on an upload before it is downloaded: `problem` is None, wrong_type, too_large or empty."""

    problem: str | None
    file_type: FileType | None
    accepted: tuple[FileType, ...]
    max_bytes: int

    @property
    def ok(self) -> bool:
        return self.problem is None



def _type_of(file_name: str, mime_type: str) -> FileType | None:
    """The file type its name says (or, without an extension, its MIME type)."""
    name = (file_name or "").lower().strip()
    mime = (mime_type or "").lower().split(";")[0].strip()
    if "." in name:
        ext = "." + name.rsplit(".", 1)[1]
        by_ext = next((ft for ft in FILE_TYPES.values() if ext in ft.extensions), None)
        if by_ext is None:
            return None
        # a name and a MIME type that disagree about a known type are not trusted
        by_mime = next((ft for ft in FILE_TYPES.values() if mime in ft.mime_types), None)
        if by_mime is not None and by_mime.key != by_ext.key:
            return None
        return by_ext
    return next((ft for ft in FILE_TYPES.values() if mime in ft.mime_types), None)


def check_upload(workflow: Workflow, material: Material, *, file_name: str, mime_type: str,
                 file_size: int | None) -> UploadCheck:
    """Is this file acceptable for this item, judging by its name, MIME type and size?"""
    accepted = workflow.accepted_types(material)
    max_bytes = workflow.max_bytes(material)
    file_type = _type_of(file_name, mime_type)
    if file_type is None or file_type not in accepted:
        return UploadCheck("wrong_type", file_type, accepted, max_bytes)
    if file_size is not None and file_size > max_bytes:
        return UploadCheck("too_large", file_type, accepted, max_bytes)
    if file_size == 0:
        return UploadCheck("empty", file_type, accepted, max_bytes)
    return UploadCheck(None, file_type, accepted, max_bytes)


def check_content(file_type: FileType, data: bytes) -> bool:
    """Do the bytes really start like this type (a renamed .exe is not a PDF)?"""
    return bool(data) and any(data.startswith(magic) for magic in file_type.magic)


def sha256_hex(data: bytes) -> str:
    """The file's sha256, as hex."""
    return hashlib.sha256(data).hexdigest()
