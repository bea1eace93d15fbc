"""The registration and filing workflow (登记 → 备案) as validated data.

The workflow lives in `knowledge/filing.yaml` plus optional per-city additions in
`knowledge/filing_cities/*.yaml`; staff edit those files, never code. Loading validates everything against a
schema and cross-checks references (every fact's `source` exists, ids are unique, file types are known, …).
Any mistake in any file refuses the whole workflow: `WorkflowError` lists every problem as
`<file>: <field path>: <message>` and nothing is returned half-loaded.

    from db.filing.workflow import load_workflow, get_workflow
    wf = load_workflow()                      # knowledge/filing.yaml + knowledge/filing_cities/*.yaml
    wf = get_workflow(knowledge_dir)          # the same, cached until a file changes
    wf.materials_for("for_profit", "台州市")  # the checklist for a for-profit centre in Taizhou

Check a file from the command line: `python -m db.filing.workflow [KNOWLEDGE_DIR]`.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from db.filing.workflow_schema import (
    FILE_TYPES,
    MAX_UPLOAD_MB,
    AfterStep,
    CityAdditions,
    ClassType,
    FamilyRule,
    FileType,
    LegalNature,
    LocalText,
    Material,
    Readiness,
    Source,
    SourcedFact,
    Statement,
    TimelineFact,
    WorkflowFile,
)

__all__ = [
    "DEFAULT_KNOWLEDGE_DIR",
    "FILE_TYPES",
    "MAX_UPLOAD_MB",
    "AfterStep",
    "CityAdditions",
    "ClassType",
    "FamilyRule",
    "FileType",
    "LegalNature",
    "LocalText",
    "Material",
    "Source",
    "Statement",
    "TimelineFact",
    "Workflow",
    "WorkflowError",
    "get_workflow",
    "load_workflow",
]

DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"
WORKFLOW_FILE = "filing.yaml"
CITIES_DIR = "filing_cities"


class WorkflowError(ValueError):
    """The workflow data is invalid; `problems` lists each one as '<file>: <field>: <message>'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid filing workflow:\n  " + "\n  ".join(problems))


# --- The loaded workflow --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workflow:
    """The validated workflow: the national file plus every city's additions (all cross-checked)."""

    data: WorkflowFile
    cities: tuple[CityAdditions, ...]
    files: tuple[Path, ...]

    @property
    def sources(self) -> dict[str, Source]:
        out = {s.id: s for s in self.data.sources}
        for city in self.cities:
            out.update({s.id: s for s in city.sources})
        return out

    def source(self, source_id: str) -> Source:
        return self.sources[source_id]

    def cite(self, fact: SourcedFact | Readiness) -> str:
        """《title》number of a fact's source."""
        return self.source(fact.source).cite()

    @property
    def natures(self) -> tuple[LegalNature, ...]:
        return self.data.legal_natures

    def nature(self, nature_id: str) -> LegalNature | None:
        return next((n for n in self.data.legal_natures if n.id == nature_id), None)

    def city(self, name: str | None) -> CityAdditions | None:
        """The additions for a city named by its name or an alias (None when there are none)."""
        if not name:
            return None
        key = name.strip().casefold()
        return next((c for c in self.cities if key in c.names()), None)

    def materials_for(self, nature_id: str, city: str | None = None) -> list[Material]:
        """The checklist for an institution of this legal nature (in this city), in order."""
        items = [m for m in self.data.materials if m.applies_to(nature_id)]
        extra = self.city(city)
        if extra is not None:
            items += [m for m in extra.materials if m.applies_to(nature_id)]
        return items

    def material(self, material_id: str, city: str | None = None) -> Material | None:
        extra = self.city(city)
        pool = self.data.materials + (extra.materials if extra else ())
        return next((m for m in pool if m.id == material_id), None)

    def timeline_for(self, city: str | None = None) -> list[TimelineFact]:
        extra = self.city(city)
        return list(self.data.timeline) + (list(extra.timeline) if extra else [])

    def notes_for(self, city: str | None) -> list[Statement]:
        extra = self.city(city)
        return list(extra.notes) if extra else []

    def accepted_types(self, material: Material) -> tuple[FileType, ...]:
        return tuple(FILE_TYPES[k] for k in (material.accept or self.data.defaults.accept))

    def max_bytes(self, material: Material) -> int:
        mb = material.max_mb if material.max_mb is not None else self.data.defaults.max_mb
        return int(mb * 1024 * 1024)


# --- Loading --------------------------------------------------------------------------------------------------


def _loc(loc: tuple[Any, ...], raw: Any) -> str:
    """('materials', 3, 'accept', 1) → 'materials[3](id=fire).accept[1]'."""
    out = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f"(id={node['id']})"
        else:
            if part in ("function-before", "function-after") or str(part).startswith(("function-", "str", "dict")):
                continue
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(f"{path}: {where}not valid YAML: {problem}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: (top level): expected a mapping of fields, got {type(data).__name__}")
        return None
    return data


def _validate(model: type[BaseModel], raw: dict, path: Path, problems: list[str]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = "unknown field (misspelt?)"
            elif err["type"] == "missing":
                message = "required field is missing"
            problems.append(f"{path}: {_loc(tuple(err['loc']), raw)}: {message}")
        return None


def _unique(ids: list[tuple[str, str]], what: str, problems: list[str]) -> None:
    """`ids` as (where, id): report every id seen twice."""
    seen: dict[str, str] = {}
    for where, ident in ids:
        if ident in seen:
            problems.append(f"{where}: duplicate {what} {ident!r} (first in {seen[ident]})")
        else:
            seen[ident] = where


def _cross_check(main: WorkflowFile, main_path: Path, cities: list[tuple[Path, CityAdditions]]) -> list[str]:
    problems: list[str] = []
    sources = [(f"{main_path}: sources", s.id) for s in main.sources]
    for path, city in cities:
        sources += [(f"{path}: sources", s.id) for s in city.sources]
    _unique(sources, "source id", problems)
    known_sources = {ident for _, ident in sources}
    natures = {n.id for n in main.legal_natures}
    _unique([(f"{main_path}: legal_natures", n.id) for n in main.legal_natures], "legal nature id", problems)
    national_materials = [(f"{main_path}: materials", m.id) for m in main.materials]
    _unique(national_materials, "material id", problems)
    _unique([(f"{main_path}: timeline", t.id) for t in main.timeline], "timeline id", problems)
    _unique([(f"{main_path}: after_filing", a.id) for a in main.after_filing], "after_filing id", problems)
    _unique([(f"{main_path}: readiness.class_types", c.id) for c in main.readiness.class_types], "class type id",
            problems)

    aliases: list[tuple[str, str]] = []
    for i, ct in enumerate(main.readiness.class_types):
        aliases += [(f"{main_path}: readiness.class_types[{i}](id={ct.id}).aliases", a.casefold()) for a in ct.aliases]
    if main.readiness.family is not None:
        aliases += [(f"{main_path}: readiness.family.aliases", a.casefold()) for a in main.readiness.family.aliases]
    _unique(aliases, "class-type alias", problems)

    def check_facts(path: Path, field: str, facts: tuple[Any, ...]) -> None:
        for i, fact in enumerate(facts):
            ident = getattr(fact, "id", None)
            where = f"{path}: {field}[{i}]" + (f"(id={ident})" if ident else "")
            if fact.source not in known_sources:
                problems.append(f"{where}.source: unknown source {fact.source!r} (known: {', '.join(sorted(known_sources))})")
            for nature in getattr(fact, "natures", None) or ():
                if nature not in natures:
                    problems.append(f"{where}.natures: unknown legal nature {nature!r} (known: {', '.join(sorted(natures))})")

    check_facts(main_path, "legal_natures", main.legal_natures)
    check_facts(main_path, "materials", main.materials)
    check_facts(main_path, "timeline", main.timeline)
    check_facts(main_path, "after_filing", main.after_filing)
    check_facts(main_path, "registration.business_scope", (main.registration.business_scope,))
    if main.registration.handover is not None:
        check_facts(main_path, "registration.handover", (main.registration.handover,))
    check_facts(main_path, "filing.authority", (main.filing.authority,))
    check_facts(main_path, "filing.system", (main.filing.system,))
    check_facts(main_path, "readiness", (main.readiness,))
    if main.readiness.family is not None:
        check_facts(main_path, "readiness.family", (main.readiness.family,))

    city_names: list[tuple[str, str]] = []
    for path, city in cities:
        city_names += [(f"{path}: city/aliases", name) for name in city.names()]
        check_facts(path, "notes", city.notes)
        check_facts(path, "materials", city.materials)
        check_facts(path, "timeline", city.timeline)
        _unique(national_materials + [(f"{path}: materials", m.id) for m in city.materials], "material id", problems)
        _unique([(f"{main_path}: timeline", t.id) for t in main.timeline]
                + [(f"{path}: timeline", t.id) for t in city.timeline], "timeline id", problems)
    _unique(city_names, "city name", problems)
    return problems


def load_workflow(knowledge_dir: Path | str | None = None, *, workflow_file: Path | str | None = None,
                  cities_dir: Path | str | None = None) -> Workflow:
    """Load and validate the workflow; raise `WorkflowError` naming every problem (nothing half-loaded).

    Defaults: `<knowledge_dir>/filing.yaml` and every `*.yaml` under `<knowledge_dir>/filing_cities/`
    (a missing cities folder means no city additions).
    """
    base = Path(knowledge_dir) if knowledge_dir is not None else DEFAULT_KNOWLEDGE_DIR
    main_path = Path(workflow_file) if workflow_file is not None else base / WORKFLOW_FILE
    city_dir = Path(cities_dir) if cities_dir is not None else base / CITIES_DIR
    problems: list[str] = []

    raw = _read_yaml(main_path, problems)
    main = _validate(WorkflowFile, raw, main_path, problems) if raw is not None else None

    city_paths = sorted(p for p in city_dir.glob("*.y*ml") if p.suffix in (".yaml", ".yml")) if city_dir.is_dir() else []
    cities: list[tuple[Path, CityAdditions]] = []
    for path in city_paths:
        raw_city = _read_yaml(path, problems)
        city = _validate(CityAdditions, raw_city, path, problems) if raw_city is not None else None
        if city is not None:
            cities.append((path, city))

    if main is not None:
        problems += _cross_check(main, main_path, cities)
    if problems or main is None:
        raise WorkflowError(problems or [f"{main_path}: could not be loaded"])
    return Workflow(data=main, cities=tuple(c for _, c in cities), files=(main_path, *(p for p, _ in cities)))


_cache: dict[Path, tuple[tuple, Workflow]] = {}
_cache_lock = threading.Lock()


def _fingerprint(base: Path) -> tuple:
    paths = [base / WORKFLOW_FILE]
    city_dir = base / CITIES_DIR
    if city_dir.is_dir():
        paths += sorted(city_dir.glob("*.y*ml"))
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


def get_workflow(knowledge_dir: Path | str | None = None) -> Workflow:
    """`load_workflow`, cached until one of the files changes (so staff edits apply without a restart).

    An invalid edit raises `WorkflowError` on every call until it is fixed.
    """
    base = (Path(knowledge_dir) if knowledge_dir is not None else DEFAULT_KNOWLEDGE_DIR).resolve()
    fingerprint = _fingerprint(base)
    with _cache_lock:
        hit = _cache.get(base)
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
    workflow = load_workflow(base)
    with _cache_lock:
        _cache[base] = (fingerprint, workflow)
    return workflow


def _main(argv: list[str]) -> int:
    base = Path(argv[0]) if argv else DEFAULT_KNOWLEDGE_DIR
    try:
        wf = load_workflow(base)
    except WorkflowError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"OK: {len(wf.natures)} legal natures, {len(wf.data.materials)} materials, "
        f"{len(wf.cities)} cities ({', '.join(c.city for c in wf.cities) or '-'}), files: "
        + ", ".join(str(p) for p in wf.files)
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
