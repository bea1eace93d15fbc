"""Why an upload or a knowledge-base change was refused."""

from __future__ import annotations

#: The refusal codes (the loader's codes first).
ERROR_CODES = (
    "unsupported_type",
    "corrupt",
    "encrypted",
    "empty",
    "too_large",
    "duplicate",
    "bad_metadata",
    "not_found",
    "bad_state",
    "failed",
)


class IngestError(Exception):
    """An upload or a change was refused. `code` is one of `ERROR_CODES`; `message` explains (English,
    technical); `details` carries what a friendly text needs (e.g. the duplicate's title)."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
