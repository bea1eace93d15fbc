"""Turn an uploaded or catalogued file into plain text: txt, md, html, pdf, docx.

The type is detected from the content (magic bytes, markup), never trusted from the file name:
a `.pdf` that is really text is rejected as mislabelled rather than parsed as something it is not.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000

ERROR_CODES = ("unsupported_type", "corrupt", "encrypted", "empty", "too_large")

# Which detected kinds a known file extension may hold; unknown or missing extensions accept any kind.
_TEXT_KINDS = {"text", "html"}
_EXTENSION_KINDS = {
    ".txt": _TEXT_KINDS,
    ".text": _TEXT_KINDS,
    ".md": _TEXT_KINDS,
    ".markdown": _TEXT_KINDS,
    ".html": _TEXT_KINDS,
    ".htm": _TEXT_KINDS,
    ".pdf": {"pdf"},
    ".docx": {"docx"},
}
_BINARY_SIGNATURES = {
    b"\xd0\xcf\x11\xe0": "an old Office (.doc/.xls) file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7z archive",
    b"\x1f\x8b": "a gzip archive",
    b"{\\rtf": "an RTF document",
}
#: The same signatures as short format ids (LoaderError.params["format"]).
_BINARY_FORMATS = {
    b"\xd0\xcf\x11\xe0": "doc",
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF8": "gif",
    b"Rar!": "rar",
    b"7z\xbc\xaf": "7z",
    b"\x1f\x8b": "gzip",
    b"{\\rtf": "rtf",
}
_HTML_HINT = re.compile(r"<\s*(!doctype\s+html|html|head|body|div|p|table|span|br|meta|title|h[1-6])\b", re.I)
_BLOCK_TAGS = ["p", "div", "section", "article", "main", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"]
_BLOCK_TAGS += ["table", "tr", "blockquote", "pre", "dd", "dt", "dl", "title", "figure", "figcaption"]
_DROP_TAGS = ["script", "style", "nav", "noscript", "template", "iframe", "svg"]
_PAGE_CHROME_TAGS = ["header", "footer", "aside"]


class LoaderError(Exception):
    """A file could not be turned into text. `code` is one of `ERROR_CODES`; `message` is for logs and
    developers (English); `params` are the structured facts a user-facing text is built from — never parse
    `message`: e.g. `reason` ("mislabelled", "binary", "zip", "expands", "parts", "scanned"), `suffix`,
    `kind`, `format` (doc, png, jpeg, gif, rar, 7z, gzip, rtf), `size`, `limit`."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown loader error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.params = params


def load_document(path: Path, *, max_bytes: int = MAX_BYTES, max_uncompressed: int = MAX_UNCOMPRESSED) -> str:
    """Plain text of the file at `path` (UTF-8 or GB18030 text, Markdown, HTML, PDF or DOCX).

    Raises `LoaderError` with code `too_large` (over `max_bytes`, or a DOCX expanding past
    `max_uncompressed`), `empty`, `unsupported_type` (unknown content, or content that does not match a
    known extension), `corrupt` or `encrypted`.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoaderError("corrupt", f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise LoaderError("too_large", f"{path.name} is {size} bytes; the limit is {max_bytes}", size=size,
                          limit=max_bytes)
    data = path.read_bytes()
    return load_bytes(data, path.name, max_bytes=max_bytes, max_uncompressed=max_uncompressed)


def load_bytes(
    data: bytes, name: str = "", *, max_bytes: int = MAX_BYTES, max_uncompressed: int = MAX_UNCOMPRESSED
) -> str:
    """Like `load_document`, for content already in memory (e.g. a Telegram upload); `name` is a hint."""
    if len(data) > max_bytes:
        raise LoaderError("too_large", f"{name or 'file'} is {len(data)} bytes; the limit is {max_bytes}",
                          size=len(data), limit=max_bytes)
    if not data.strip():
        raise LoaderError("empty", f"{name or 'file'} is empty")
    kind = detect_kind(data)
    suffix = Path(name).suffix.lower()
    allowed = _EXTENSION_KINDS.get(suffix)
    if allowed is not None and kind not in allowed:
        raise LoaderError(
            "unsupported_type", f"{name} is named {suffix} but its content is {kind}; rename or convert it",
            reason="mislabelled", suffix=suffix, kind=kind,
        )
    if kind == "pdf":
        text = _pdf_text(data)
    elif kind == "docx":
        text = _docx_text(data, max_uncompressed)
    else:
        decoded = decode_text(data)
        if kind == "html":
            text = _html_text(decoded)
        elif suffix in (".md", ".markdown"):
            text = _markdown_text(decoded)
        else:
            text = decoded
    text = _tidy(text)
    if not text.strip():
        raise LoaderError(
            "empty", f"{name or 'file'} contains no text" + (" (scanned images?)" if kind == "pdf" else ""),
            reason="scanned" if kind == "pdf" else "no_text",
        )
    return text


def detect_kind(data: bytes) -> str:
    """`pdf`, `docx`, `html` or `text`, from the content; raises `LoaderError` for anything else."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise LoaderError("corrupt", f"broken zip container: {exc}") from exc
        if "word/document.xml" in names:
            return "docx"
        raise LoaderError("unsupported_type", "a zip archive that is not a Word (.docx) document", reason="zip")
    for magic, what in _BINARY_SIGNATURES.items():
        if head.startswith(magic):
            raise LoaderError("unsupported_type", f"this is {what}; send txt, md, html, pdf or docx",
                              reason="binary", format=_BINARY_FORMATS.get(magic, ""))
    text = decode_text(data)
    return "html" if _HTML_HINT.search(text[:4096]) else "text"


def decode_text(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (GBK, GB2312)."""
    candidates = ["utf-16"] if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text
    raise LoaderError(
        "unsupported_type", "binary content that is neither text nor a supported document", reason="binary"
    )


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f\v")
    return "\x00" in sample or controls / len(sample) > 0.01


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Owner-password-only PDFs (printing/copying restricted) open with an empty user password.
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types (e.g. missing crypto backend)
                raise LoaderError("encrypted", "the PDF is password-protected") from exc
            if not opened:
                raise LoaderError("encrypted", "the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoaderError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise LoaderError("corrupt", f"the PDF cannot be read: {exc}") from exc
    except Exception as exc:  # pypdf surfaces many internal errors on damaged files
        raise LoaderError("corrupt", f"the PDF cannot be read: {type(exc).__name__}") from exc
    return "\n".join(pages)


def _check_zip_budget(data: bytes, max_uncompressed: int) -> None:
    """Refuse zip bombs: the declared sizes, then the real decompressed bytes, must stay under the limit."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                raise LoaderError(
                    "too_large", f"the document has {len(infos)} parts; the limit is {MAX_ZIP_ENTRIES}",
                    reason="parts", limit=MAX_ZIP_ENTRIES,
                )
            declared = sum(info.file_size for info in infos)
            if declared > max_uncompressed:
                raise LoaderError(
                    "too_large", f"the document expands to {declared} bytes; the limit is {max_uncompressed}",
                    reason="expands", limit=max_uncompressed,
                )
            # Declared sizes can lie, so also count what actually comes out, stopping at the limit.
            total = 0
            for info in infos:
                with archive.open(info) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        if total > max_uncompressed:
                            raise LoaderError(
                                "too_large", f"the document expands past {max_uncompressed} bytes",
                                reason="expands", limit=max_uncompressed,
                            )
    except LoaderError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
    ) as exc:
        raise LoaderError("corrupt", f"broken Word document: {exc}") from exc


def _docx_text(data: bytes, max_uncompressed: int) -> str:
    _check_zip_budget(data, max_uncompressed)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        body = document.element.body
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                lines.append(Paragraph(child, document).text)
            elif tag == "tbl":
                lines.extend(_docx_table_rows(Table(child, document)))
    except LoaderError:
        raise
    except Exception as exc:  # python-docx/lxml raise many types on malformed XML
        raise LoaderError("corrupt", f"broken Word document: {type(exc).__name__}: {exc}") from exc
    return "\n".join(lines)


def _docx_table_rows(table) -> list[str]:  # noqa: ANN001 - python-docx Table
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # A horizontally merged cell is returned once per grid column; keep it once.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _html_text(markup: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_PAGE_CHROME_TAGS):
        # Site-wide header/footer are page chrome; an article's own <header> holds its title.
        if tag.parent is not None and tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    for row in soup.find_all("tr"):
        if row.parent is None:  # inside a nested table already flattened with its outer row
            continue
        cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"])]
        row.replace_with(soup.new_string("\n" + " | ".join(cells) + "\n"))
    for br in soup.find_all("br"):
        br.replace_with(soup.new_string("\n"))
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(soup.new_string("\n"))
        tag.insert_after(soup.new_string("\n"))
    lines = (" ".join(line.split()) for line in soup.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _markdown_text(text: str) -> str:
    lines: list[str] = []
    for line in text.split("\n"):
        if _MD_RULE.match(line) or _MD_TABLE_RULE.match(line) or line.strip().startswith("```"):
            continue
        line = _MD_HEADING.sub("", line)
        line = _MD_LINK.sub(r"\1", line)
        line = line.replace("**", "").replace("__", "").replace("`", "")
        if line.lstrip().startswith("|"):
            line = line.strip().strip("|").strip()
        lines.append(line)
    return "\n".join(lines)
