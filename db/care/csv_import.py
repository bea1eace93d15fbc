"""Import real institutions from a CSV file: `python -m bot institutions import FILE.csv`.

All or nothing: every row is validated first; if any row is rejected, nothing is written and the report
lists each rejected row (line number, column, reason). Otherwise all rows are written in one transaction.
A row whose `external_id` matches an institution already in the database updates it; so does a row without
`external_id` whose name, city and address match one exactly (re-importing a file never duplicates).
Imported records are real data (`is_demo` false).

File format
-----------
UTF-8 (with or without BOM; GB18030/GBK as saved by Excel is also accepted), comma-separated, one header
row. Column names are English (below) or the Chinese name in brackets; order does not matter; an unknown
column is an error (a misspelt fee column must not be silently ignored). Empty cells mean "not given".

Required:
  name [机构名称]            institution name, at most 200 characters
  city [城市]                city, e.g. 厦门市, 张家港市
  district [区县]            district / town / street, e.g. 思明区, 杨舍镇
  address [地址]             street address
  lat [纬度], lon [经度]     coordinates in degrees (WGS-84, as Telegram location shares); must lie in China
  puhui [普惠]               是/否 (also true/false, yes/no, 1/0, y/n)
  total_places [总托位]      integer >= 1
Optional:
  external_id [统一社会信用代码]  stable id, e.g. the unified social credit code; unique within the file
  free_places [空余托位]          integer, 0..total_places (default 0)
  legal_nature [法人性质]         事业单位 | 社会服务机构 | 营利性
  form [举办形式]                 独立托育机构 | 社区嵌入式 | 幼儿园托班 | 用人单位办托 | 家庭托育点 | 托育综合服务中心
  filing_status [备案状态]        已备案 | 备案中 | 未备案 (default 未备案)
  age_min_months [最小月龄]       default 6; age_max_months [最大月龄] default 36; 0 <= min < max <= 36
  classes [班级]                  乳儿班, 托小班, 托大班, 混合编班 — separated by | or ; or 、
  services [服务]                 全日托, 半日托, 临时托, 计时托 — same separators; default: those with a fee
  fee_full_day [全日托收费]       全日托 元/月     fee_half_day [半日托收费]  半日托 元/月
  fee_temporary [临时托收费]      临时托 元/次     fee_hourly [计时托收费]    计时托 元/小时
                                  (each service listed in `services` needs its fee; fees 0..100000)
  phone [电话], opening_hours [开放时间]
  operator_user_id [运营者TG编号] Telegram user id of the institution's operator

Example:
  name,city,district,address,lat,lon,puhui,total_places,free_places,fee_full_day,fee_temporary
  阳光托育中心,厦门市,思明区,厦门市思明区莲前西路1号,24.4702,118.1301,是,60,8,1800,90
"""

from __future__ import annotations

import csv
import io
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from sqlalchemy import insert, select, update
from sqlmodel import Session

from db.care.geo import in_china
from db.core.timeutil import utcnow
from db.models import (
    FILING_STATUSES,
    FORMS,
    LEGAL_NATURES,
    MAX_PLACES,
    SERVICES,
    Institution,
    InstitutionFields,
)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_FEE = 100_000
CLASSES = ("乳儿班", "托小班", "托大班", "混合编班")
FEE_COLUMNS = {"fee_full_day": "全日托", "fee_half_day": "半日托", "fee_temporary": "临时托", "fee_hourly": "计时托"}
REQUIRED = ("name", "city", "district", "address", "lat", "lon", "puhui", "total_places")
OPTIONAL = (
    "external_id", "free_places", "legal_nature", "form", "filing_status", "age_min_months", "age_max_months",
    "classes", "services", *FEE_COLUMNS, "phone", "opening_hours", "operator_user_id",
)  # fmt: skip
CHINESE_HEADERS = {
    "机构名称": "name", "名称": "name", "城市": "city", "区县": "district", "区域": "district", "所在区": "district",
    "地址": "address", "纬度": "lat", "经度": "lon", "普惠": "puhui", "总托位": "total_places",
    "总托位数": "total_places", "统一社会信用代码": "external_id", "空余托位": "free_places",
    "法人性质": "legal_nature", "举办形式": "form", "机构类型": "form", "备案状态": "filing_status",
    "最小月龄": "age_min_months", "最大月龄": "age_max_months", "班级": "classes", "服务": "services",
    "全日托收费": "fee_full_day", "半日托收费": "fee_half_day", "临时托收费": "fee_temporary",
    "计时托收费": "fee_hourly", "电话": "phone", "开放时间": "opening_hours", "运营者TG编号": "operator_user_id",
}  # fmt: skip
TRUE_WORDS = {"是", "true", "yes", "y", "1", "普惠"}
FALSE_WORDS = {"否", "false", "no", "n", "0", "非普惠"}


@dataclass
class RowError:
    """Why one row (or the file itself, line 0/1) was rejected."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else "文件"
        return f"{where}{f' [{self.column}]' if self.column else ''}: {self.message}"


@dataclass
class ImportReport:
    """The outcome of an import."""

    path: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    applied: bool = False
    errors: list[RowError] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON shape printed by `institutions import --json`."""
        return {
            "file": self.path,
            "applied": self.applied,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "rejected": [{"line": e.line, "column": e.column, "reason": e.message} for e in self.errors],
        }

    def summary(self) -> str:
        """A readable report in Chinese (with English)."""
        if self.applied:
            return (
                f"导入成功 (import applied): {self.rows} 行, 新增 {self.inserted} 家, 更新 {self.updated} 家"
                f" ({self.inserted} inserted, {self.updated} updated)"
            )
        rejected_lines = len({e.line for e in self.errors})
        lines = [
            f"导入未执行,数据库未作任何改动 (nothing was imported): {rejected_lines} 处问题 / {self.rows} 行",
        ]
        lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


#: Columns copied as they are from a row to the institutions table (`InstitutionRow.to_columns`).
_TABLE_COLUMNS = {
    "external_id", "name", "city", "district", "address", "lat", "lon", "legal_nature", "form", "puhui",
    "filing_status", "age_min_months", "age_max_months", "classes", "total_places", "free_places", "phone",
    "opening_hours", "operator_user_id",
}  # fmt: skip
_VOCABULARIES = {
    "legal_nature": (LEGAL_NATURES, "unknown legal nature"),
    "form": (FORMS, "unknown form"),
    "filing_status": (FILING_STATUSES, "unknown filing status"),
}


def _required(name: str) -> FieldInfo:
    """The shared field `name` (its limits from `InstitutionFields`) without the table's default: a CSV row must
    give it."""
    info = copy(InstitutionFields.model_fields[name])
    info.default = PydanticUndefined
    return info


class InstitutionRow(InstitutionFields):
    """One validated CSV row: the institution's fields and limits (`db.models.InstitutionFields`), plus the
    file's own columns (fees per service, lists) and the import's rules (required columns, vocabularies)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    address: str = _required("address")
    puhui: bool = _required("puhui")
    total_places: int = Field(ge=1, le=MAX_PLACES)  # an institution to import has places
    classes: list[str] = []
    services: list[str] | None = None
    fee_full_day: float | None = Field(default=None, ge=0, le=MAX_FEE)
    fee_half_day: float | None = Field(default=None, ge=0, le=MAX_FEE)
    fee_temporary: float | None = Field(default=None, ge=0, le=MAX_FEE)
    fee_hourly: float | None = Field(default=None, ge=0, le=MAX_FEE)
    operator_user_id: int | None = None

    @field_validator("puhui", mode="before")
    @classmethod
    def _bool(cls, value):
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("应为 是/否 (must be yes/no)")

    @field_validator("lat", "lon", "fee_full_day", "fee_half_day", "fee_temporary", "fee_hourly", mode="before")
    @classmethod
    def _number(cls, value):
        if value is None:
            return None
        text = str(value).strip().replace(",", "").replace("，", "").replace("元", "")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"不是数字 (not a number): {str(value)[:30]!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("不是有效数字 (not a finite number)")
        return number

    @field_validator("total_places", "free_places", "age_min_months", "age_max_months", "operator_user_id", mode="before")
    @classmethod
    def _integer(cls, value):
        if value is None:
            return None
        text = str(value).strip()
        if not text.lstrip("-").isdigit():
            raise ValueError(f"应为整数 (must be a whole number): {text[:30]!r}")
        return int(text)

    @field_validator("classes", "services", mode="before")
    @classmethod
    def _list(cls, value):
        if value is None:
            return None
        text = str(value)
        for sep in (";", "；", "、", ",", "，"):
            text = text.replace(sep, "|")
        return [part.strip() for part in text.split("|") if part.strip()]

    @field_validator("legal_nature", "form", "filing_status")
    @classmethod
    def _vocabulary(cls, value: str, info: ValidationInfo) -> str:
        choices, what = _VOCABULARIES[info.field_name]
        if (value or info.field_name == "filing_status") and value not in choices:  # only the status is required
            raise ValueError(f"应为 {'/'.join(choices)} ({what})")
        return value

    @field_validator("classes")
    @classmethod
    def _classes(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CLASSES]
        if unknown:
            raise ValueError(f"未知班级 {unknown} (unknown class; use {'/'.join(CLASSES)})")
        return value

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            unknown = [s for s in value if s not in SERVICES]
            if unknown:
                raise ValueError(f"未知服务 {unknown} (unknown service; use {'/'.join(SERVICES)})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> InstitutionRow:
        if in_china(self.lon, self.lat) and not in_china(self.lat, self.lon):
            raise ValueError("经纬度写反了? (lat/lon swapped? lat is about 18–54, lon about 73–135 in China) [lat/lon]")
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError("坐标超出范围 (lat must be -90..90, lon -180..180) [lat/lon]")
        if not in_china(self.lat, self.lon):
            raise ValueError("坐标不在中国境内,经纬度是否写反? (coordinates outside China — lat/lon swapped?) [lat/lon]")
        if not (0 <= self.free_places <= self.total_places):
            raise ValueError("空余托位应在 0 与总托位之间 (free_places must be 0..total_places) [free_places]")
        if not self.age_min_months < self.age_max_months:
            raise ValueError("月龄范围应满足 0 ≤ 最小 < 最大 ≤ 36 (age range must be 0 <= min < max <= 36) [age]")
        fees = self.fees()
        if self.services is None:
            self.services = [s for s in SERVICES if s in fees]
        missing = [s for s in self.services if s not in fees]
        if missing:
            raise ValueError(f"缺少收费: {'、'.join(missing)} (missing fee for {', '.join(missing)}) [fees]")
        if not self.services:
            raise ValueError("至少需要一项服务及其收费 (at least one service with its fee is required) [fees]")
        extra = [s for s in fees if s not in self.services]
        if extra:
            raise ValueError(f"有收费但未列入服务: {'、'.join(extra)} (fee given for a service not listed) [services]")
        return self

    def fees(self) -> dict[str, float]:
        """{service: fee} for the fees given."""
        out = {}
        for column, service in FEE_COLUMNS.items():
            value = getattr(self, column)
            if value is not None:
                out[service] = int(value) if float(value).is_integer() else value
        return out

    def to_columns(self) -> dict:
        """Column values for the institutions table."""
        columns = self.model_dump(include=_TABLE_COLUMNS)
        return columns | {"services": self.services or [], "fees": self.fees(), "is_demo": False}

def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8", raw[:1], 0, 1, "not UTF-8 or GB18030")


#: The field constraints' errors (`InstitutionFields`), in the import's words.
_LIMIT_MESSAGES = {
    "string_too_short": lambda limits: "不能为空 (must not be empty)",
    "string_too_long": lambda limits: f"太长,最多 {limits.get('max_length')} 字 (too long)",
    "string_pattern_mismatch": lambda limits: "含控制字符 (contains control characters)",
}
_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}
_RANGE_WORDS = {
    "total_places": "总托位", "free_places": "空余托位", "age_min_months": "最小月龄", "age_max_months": "最大月龄",
    **{column: "收费" for column in FEE_COLUMNS},
}  # fmt: skip


def _range_message(column: str | None) -> str:
    """"总托位应在 1–10000 之间 (total_places must be 1–10000)", from the field's own bounds."""
    field = InstitutionRow.model_fields.get(column or "")
    metadata = field.metadata if field else []
    low = next((m.ge for m in metadata if hasattr(m, "ge")), "?")
    high = next((m.le for m in metadata if hasattr(m, "le")), "?")
    unit = " 元" if column in FEE_COLUMNS else " "
    return f"{_RANGE_WORDS.get(column, column)}应在 {low}–{high}{unit}之间 ({column} must be {low}–{high})"


def _errors_from_validation(line: int, exc: ValidationError) -> list[RowError]:
    out = []
    for error in exc.errors():
        column = ".".join(str(part) for part in error.get("loc", ())) or None
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        kind, limits = error.get("type", ""), error.get("ctx") or {}
        if kind in _LIMIT_MESSAGES:
            message = _LIMIT_MESSAGES[kind](limits)
        elif kind in _RANGE_ERRORS:
            message = _range_message(column)
        elif kind == "missing":
            message = "必填列为空 (required value missing)"
        elif kind == "extra_forbidden":
            message = "未知列 (unknown column)"
        elif kind.endswith("_parsing") or kind in ("int_type", "float_type"):
            message = f"格式不对 (wrong format): {message}"
        if column is None and message.endswith("]") and "[" in message:
            message, _, column = message[:-1].rpartition(" [")
        out.append(RowError(line, column, message))
    return out


def _file_content(path: Path) -> tuple[str | None, RowError | None]:
    """The file's text, or why it cannot be read as a CSV file (line 0: the file itself)."""
    if not path.is_file():
        return None, RowError(0, None, "文件不存在 (file not found)")
    if path.stat().st_size > MAX_FILE_BYTES:
        return None, RowError(0, None, f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB (file too large)")
    try:
        content = _read_text(path)
    except UnicodeDecodeError:
        return None, RowError(0, None, "无法识别的编码,请另存为 UTF-8 CSV (not a UTF-8/GB18030 text file)")
    if "\x00" in content:
        return None, RowError(0, None, "不是 CSV 文本文件 (binary content, not a CSV file)")
    return content, None


def _header_columns(reader, report: ImportReport) -> list[str] | None:
    """The header row as column names (Chinese names mapped to English), or None after reporting its problems."""
    try:
        header = next(reader)
    except StopIteration:
        report.errors.append(RowError(0, None, "文件为空 (empty file)"))
        return None
    except csv.Error as exc:
        report.errors.append(RowError(1, None, f"CSV 格式错误 (malformed CSV): {exc}"))
        return None
    columns = []
    for name in header:
        key = name.strip().lstrip("\ufeff")
        columns.append(CHINESE_HEADERS.get(key, key.lower()))
    known = set(REQUIRED) | set(OPTIONAL)
    for name in columns:
        if name not in known:
            report.errors.append(RowError(1, name, "未知列 (unknown column)"))
    for name in REQUIRED:
        if name not in columns:
            report.errors.append(RowError(1, name, "缺少必需的列 (required column missing)"))
    duplicates = {c for c in columns if columns.count(c) > 1}
    for name in sorted(duplicates):
        report.errors.append(RowError(1, name, "列重复 (duplicate column)"))
    return None if report.errors else columns


def _data_rows(reader, report: ImportReport):
    """(line number, cells) of each non-blank data row; stops at a malformed line or at MAX_ROWS (reported)."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.errors.append(RowError(reader.line_num, None, f"CSV 格式错误 (malformed CSV): {exc}"))
            return
        if not any(v.strip() for v in values):
            continue  # blank line
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append(RowError(reader.line_num, None, f"行数超过 {MAX_ROWS} (too many rows)"))
            return
        yield reader.line_num, values


def validate_csv(path: str | Path) -> tuple[list[tuple[int, InstitutionRow]], ImportReport]:
    """Parse and validate every row; returns the good rows and a report holding every problem found."""
    path = Path(path)
    report = ImportReport(path=str(path))
    content, problem = _file_content(path)
    if problem is not None:
        report.errors.append(problem)
        return [], report
    reader = csv.reader(io.StringIO(content, newline=""))
    columns = _header_columns(reader, report)
    if columns is None:
        return [], report

    good: list[tuple[int, InstitutionRow]] = []
    seen_ids: dict[str, int] = {}
    for line, values in _data_rows(reader, report):
        if len(values) != len(columns):
            report.errors.append(
                RowError(line, None, f"列数为 {len(values)},表头为 {len(columns)} (wrong number of fields)")
            )
            continue
        data = {col: (val.strip() or None) for col, val in zip(columns, values, strict=True)}
        data = {k: v for k, v in data.items() if v is not None}
        try:
            row = InstitutionRow(**data)
        except ValidationError as exc:
            report.errors.extend(_errors_from_validation(line, exc))
            continue
        if row.external_id:
            if row.external_id in seen_ids:
                report.errors.append(
                    RowError(
                        line,
                        "external_id",
                        f"与第 {seen_ids[row.external_id]} 行重复 (duplicate of line {seen_ids[row.external_id]})",
                    )
                )
                continue
            seen_ids[row.external_id] = line
        good.append((line, row))
    if report.rows == 0 and not report.errors:
        report.errors.append(RowError(0, None, "没有数据行 (no data rows)"))
    return good, report


def import_institutions_csv(path: str | Path, *, session: Session) -> ImportReport:
    """Validate the whole file, then apply it in the caller's unit of work — or apply nothing (see module
    docstring)."""
    good, report = validate_csv(path)
    if report.errors:
        report.applied = False
        return report
    table = Institution.__table__
    now = utcnow()
    by_external = {}
    ids = [row.external_id for _, row in good if row.external_id]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for found in session.execute(select(table.c.id, table.c.external_id).where(table.c.external_id.in_(chunk))):
            by_external[found.external_id] = found.id
    new_rows = []
    for _, row in good:
        columns = row.to_columns()
        target = by_external.get(row.external_id) if row.external_id else None
        if target is None and not row.external_id:
            target = session.execute(
                select(table.c.id).where(
                    table.c.name == row.name,
                    table.c.city == row.city,
                    table.c.address == row.address,
                    table.c.is_demo.is_(False),
                )
            ).scalar()
        if target is not None:
            if columns["external_id"] is None:
                del columns["external_id"]  # keep an id the record already has
            session.execute(update(table).where(table.c.id == target).values(**columns, updated_at=now))
            report.updated += 1
        else:
            new_rows.append(columns | {"created_at": now, "updated_at": now})
    for start in range(0, len(new_rows), 1000):
        session.execute(insert(table), new_rows[start : start + 1000])
    report.inserted = len(new_rows)
    report.applied = True
    return report
