"""Loading txt, md, html, pdf and docx files; rejecting what cannot or must not be read."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from retrieval.catalog import CatalogError, load_catalog, load_catalog_entries
from retrieval.loaders import LoaderError, load_bytes, load_document
from tests.kb_fixtures import docx_zip_bomb, minimal_pdf

POLICY = "托育机构收托困境婴幼儿的,按规定减免500元/人/月托育服务费用。"


def encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf("Puhui tuoyu policy"))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def expect_error(path: Path, code: str, **kwargs: int) -> LoaderError:
    with pytest.raises(LoaderError) as caught:
        load_document(path, **kwargs)
    assert caught.value.code == code, caught.value
    assert caught.value.message
    return caught.value


# --- text -------------------------------------------------------------------------------------------


def test_utf8_text_verbatim(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.txt", "\ufeff一、总体要求\r\n" + POLICY + "   \r\n")
    assert load_document(path) == "一、总体要求\n" + POLICY + "\n"


def test_gb18030_text_is_decoded(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.txt", POLICY.encode("gb18030"))
    assert load_document(path).strip() == POLICY


def test_markdown_markup_is_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "notes.md",
        "# 托育补贴\n\n**普惠托位** 见[通知](https://example.org/a)。\n\n| 班级 | 月龄 |\n|---|---|\n| 乳儿班 | 6-12 |\n",
    )
    text = load_document(path)
    assert "托育补贴" in text and "#" not in text and "**" not in text
    assert "见通知。" in text and "https://" not in text
    assert "乳儿班 | 6-12" in text and "---" not in text


def test_text_without_extension_is_detected_by_content(tmp_path: Path) -> None:
    assert load_document(write(tmp_path, "upload", POLICY)).strip() == POLICY


# --- html -------------------------------------------------------------------------------------------


def test_html_drops_script_style_nav_and_keeps_tables(tmp_path: Path) -> None:
    html = """<!DOCTYPE html><html><head><title>方案</title><style>p{color:red}</style>
    <script>var ad = "赌城";</script></head><body><nav>首页 &gt; 政策</nav>
    <div class="content"><h1>张家港市普惠托育方案</h1><p>托育机构<b>收托</b>困境婴幼儿的,<br>按规定减免。</p>
    <table><tr><th>项目</th><th>市级</th></tr><tr><td>辖区总托位数(个)</td><td>6520</td></tr></table></div>
    </body></html>"""
    text = load_document(write(tmp_path, "page.html", html))
    assert "赌城" not in text and "color" not in text and "首页" not in text
    assert "托育机构收托困境婴幼儿的," in text  # inline tags do not break the sentence
    assert "张家港市普惠托育方案" in text
    assert "辖区总托位数(个) | 6520" in text


def test_html_in_a_txt_file_is_parsed_as_html(tmp_path: Path) -> None:
    text = load_document(
        write(tmp_path, "saved.txt", "<html><body><p>普惠托育</p><script>x()</script></body></html>")
    )
    assert text.strip() == "普惠托育"


def test_gbk_html_is_decoded(tmp_path: Path) -> None:
    page = '<html><head><meta charset="gbk"></head><body><p>' + POLICY + "</p></body></html>"
    assert POLICY in load_document(write(tmp_path, "page.htm", page.encode("gbk")))


# --- pdf --------------------------------------------------------------------------------------------


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    assert "Puhui tuoyu policy" in load_document(
        write(tmp_path, "plan.pdf", minimal_pdf("Puhui tuoyu policy"))
    )


def test_password_protected_pdf_is_rejected(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "locked.pdf", encrypted_pdf("secret")), "encrypted")


def test_owner_password_only_pdf_is_readable(tmp_path: Path) -> None:
    # Restrictions-only encryption (empty user password) is how many government PDFs are published.
    assert "Puhui tuoyu policy" in load_document(write(tmp_path, "restricted.pdf", encrypted_pdf("")))


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\nthis is not really a pdf\n",
        minimal_pdf("x")[:150],
        minimal_pdf("x")[:300] + b"\x00garbage",
    ],
)
def test_corrupt_pdf_is_rejected(tmp_path: Path, data: bytes) -> None:
    expect_error(write(tmp_path, "broken.pdf", data), "corrupt")


def test_pdf_without_text_is_empty(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    expect_error(write(tmp_path, "scan.pdf", out.getvalue()), "empty")


def test_text_named_pdf_is_rejected_as_mislabelled(tmp_path: Path) -> None:
    error = expect_error(write(tmp_path, "policy.pdf", POLICY), "unsupported_type")
    assert ".pdf" in error.message


def test_pdf_named_txt_is_rejected_as_mislabelled(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "policy.txt", minimal_pdf("hello")), "unsupported_type")


# --- docx -------------------------------------------------------------------------------------------


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("一、总体要求")
    document.add_paragraph(POLICY)
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(
        table.rows, [["项目", "市级", "杨舍镇"], ["辖区总托位数(个)", "6520", "2730"]], strict=True
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("二、工作目标")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_paragraphs_and_table_rows_in_order(tmp_path: Path) -> None:
    text = load_document(write(tmp_path, "plan.docx", docx_bytes()))
    lines = text.strip().split("\n")
    assert lines == [
        "一、总体要求",
        POLICY,
        "项目 | 市级 | 杨舍镇",
        "辖区总托位数(个) | 6520 | 2730",
        "二、工作目标",
    ]


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.docx", docx_zip_bomb(docx_bytes()))
    assert path.stat().st_size < 1_000_000  # small on disk, 60 MB inflated
    expect_error(path, "too_large")


def test_zip_that_is_not_docx_is_unsupported(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    expect_error(write(tmp_path, "sheet.docx", out.getvalue()), "unsupported_type")


def test_broken_docx_is_corrupt(tmp_path: Path) -> None:
    data = docx_bytes()
    expect_error(write(tmp_path, "broken.docx", data[: len(data) // 2]), "corrupt")


# --- limits and other types ---------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "empty.txt", b""), "empty")
    expect_error(write(tmp_path, "blank.txt", "  \n\n "), "empty")


def test_too_large_file(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "big.txt", POLICY * 100), "too_large", max_bytes=1000)


def test_images_and_binaries_are_unsupported(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "unsupported_type")
    expect_error(
        write(tmp_path, "old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64), "unsupported_type"
    )
    expect_error(write(tmp_path, "blob", bytes(range(256)) * 8), "unsupported_type")


def test_load_bytes_matches_load_document(tmp_path: Path) -> None:
    assert load_bytes(POLICY.encode(), "x.txt") == load_document(write(tmp_path, "x.txt", POLICY))


def test_unknown_error_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        LoaderError("oops", "not a code")


# --- the catalog (loading documents' metadata) ----------------------------------------------------------

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def test_catalog_describes_the_five_documents() -> None:
    catalog = load_catalog(KNOWLEDGE)
    metas = {meta.doc_id: meta for meta, _ in catalog}
    assert list(metas) == ["xiamen", "zhangjiagang", "daqing", "taizhou", "beilun"]
    assert all(path.is_file() and path.suffix == ".txt" for _, path in catalog)
    assert metas["xiamen"].title == "厦门市普惠托育服务发展示范项目实施方案"
    assert metas["xiamen"].date == "2024-06-17" and metas["xiamen"].doc_number == "厦卫人口家庭〔2024〕169号"
    assert metas["beilun"].city == "宁波市北仑区" and {"北仑", "Beilun"} <= set(metas["beilun"].aliases)
    assert "宁波" not in metas["beilun"].aliases  # the parent city is not the district (places.yaml hierarchy)
    assert "苏州" not in metas["zhangjiagang"].aliases
    assert metas["daqing"].date == ""
    entries = {e.meta.doc_id: e for e in load_catalog_entries(KNOWLEDGE)}
    assert entries["daqing"].valid_until == "2025-12-31"
    # the catalog can also be addressed by its own folder
    assert load_catalog(KNOWLEDGE / "policies") == catalog


def catalog_dir(tmp_path: Path, body: str) -> Path:
    (tmp_path / "a.txt").write_text(POLICY, encoding="utf-8")
    (tmp_path / "catalog.yaml").write_text(body, encoding="utf-8")
    return tmp_path


GOOD = "documents:\n  - {doc_id: demo, file: a.txt, title: 《示例方案》, city: 示例市, date: 2024-01-02}\n"


def test_catalog_accepts_unquoted_dates_and_strips_title_marks(tmp_path: Path) -> None:
    [(meta, path)] = load_catalog(catalog_dir(tmp_path, GOOD))
    assert meta.title == "示例方案" and meta.date == "2024-01-02" and meta.source_file == "a.txt"
    assert path == (tmp_path / "a.txt").resolve()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("documents: [", "not valid YAML"),
        ("docs: []\n", "documents"),
        ("documents:\n  - {doc_id: demo, file: a.txt, city: 示例市}\n", "title"),
        ("documents:\n  - {doc_id: Demo!, file: a.txt, title: t, city: c}\n", "doc_id"),
        ("documents:\n  - {doc_id: demo, file: missing.txt, title: t, city: c}\n", "not found"),
        ("documents:\n  - {doc_id: demo, file: ../a.txt, title: t, city: c}\n", "inside"),
        ("documents:\n  - {doc_id: demo, file: a.txt, title: t, city: c, date: 2024/01/02}\n", "YYYY-MM-DD"),
        (
            "documents:\n  - {doc_id: demo, file: a.txt, title: t, city: c, valid_until: '2024-02-30'}\n",
            "real date",
        ),
        ("documents:\n  - {doc_id: demo, file: a.txt, title: t, city: c, date: 2024-02-30}\n", "YAML"),
        ("documents:\n  - {doc_id: demo, file: a.txt, title: t, city: c, aliases: 示例}\n", "aliases"),
        (GOOD + "  - {doc_id: demo, file: a.txt, title: t, city: c}\n", "duplicate"),
    ],
)
def test_bad_catalog_is_a_clear_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message) as caught:
        load_catalog(catalog_dir(tmp_path, body))
    assert "catalog.yaml" in str(caught.value)
