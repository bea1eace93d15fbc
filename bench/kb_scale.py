"""Knowledge-base scale benchmark: the seed policy documents re-issued under fictional city names until the
knowledge base holds N documents, then what a worker pays for it.

Run: `python -m bench.kb_scale --documents 300` (and `--documents 3000`). Prints one JSON object:
- `build`: filling the Chroma store (the copies reuse the vectors of the seed passage they copy, since only
  the place names differ: embedding throughput is reported separately as `embedding_passages_per_s`), then
  the first lexical index and its snapshot.
- `start_s`: a fresh worker process (model already loaded) opening the store, checking the catalog,
  loading its lexical snapshot and warming up, until it can answer; `model_load_s` apart.
- `ask_ms`: `PolicyService.ask` over both development sets (p50/p95/max), and their hit@1 — the questions
  name real cities, so the fictional ones must not get in the way.
- `publish_s`, `replace_s`, `retire_s`: one staff change through `KnowledgeBase` (embedding the new
  document included, quality check off), and `publish_with_quality_check_s` as `/kb` does it by default.
- `peak_rss_mb` of the worker process (and its resident memory after each step).

The worker part runs in a subprocess (`--serve DIR`) so its memory is measured apart from the build.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

from bench.ask_latency import latency_summary
from bot.settings import KNOWLEDGE_DIR

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "knowledge" / "eval"
DEV_SETS = (DATA / "policy_qa_dev.jsonl", DATA / "policy_qa_hard_dev.jsonl")
# Characters for fictional place names: none is a place-name suffix (市, 区, 县 …) and none starts a real
# place of knowledge/places.yaml by itself (names are checked against the gazetteer too).
NAME_CHARS = "青禾松岚溪桐梧枫柏苇杉屿澜芷蘅榆槐棠莘萱蕙荻蒲芸茗蓼菖藜蔚霁璟琪瑜璇珂玥琳瑶瑾"


def fictional_names(length: int, avoid: str):
    """Endless supply of distinct fictional names of `length` characters that occur nowhere in `avoid`."""
    for combo in itertools.product(NAME_CHARS, repeat=length):
        name = "".join(combo)
        if len(set(name)) == length and name not in avoid:
            yield name


def write_knowledge(target: Path, documents: int) -> tuple[list[dict], dict[str, str]]:
    """A knowledge directory whose catalog has the seeds plus copies under fictional names, `documents` in
    all. Returns (catalog entries, the next unused name per seed, for the staff changes)."""
    from retrieval.catalog import load_catalog_entries
    from retrieval.places import stem

    shutil.copytree(KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns("policies", "demo", "filing_cities"))
    policies = target / "policies"
    policies.mkdir()
    seeds = load_catalog_entries(KNOWLEDGE_DIR)
    avoid = (KNOWLEDGE_DIR / "places.yaml").read_text(encoding="utf-8")
    texts = {}
    for entry in seeds:
        texts[entry.meta.doc_id] = entry.path.read_text(encoding="utf-8")
        avoid += texts[entry.meta.doc_id]
        shutil.copy(entry.path, policies / entry.path.name)
    entries = [_entry(e.meta, e.path.name, e.valid_until) for e in seeds]
    generators = {e.meta.doc_id: fictional_names(len(stem(e.meta.city)), avoid) for e in seeds}
    copies = max(0, documents - len(seeds))
    for i in range(copies):
        seed = seeds[i % len(seeds)]
        name = next(generators[seed.meta.doc_id])
        meta, text = reissue(seed.meta, texts[seed.meta.doc_id], name, f"{seed.meta.doc_id}-{i:05d}")
        file_name = f"{meta.doc_id}.txt"
        (policies / file_name).write_text(text, encoding="utf-8")
        entries.append(_entry(meta, file_name, ""))
    (policies / "catalog.yaml").write_text(
        yaml.safe_dump({"documents": entries}, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    spare = {seed.meta.doc_id: next(generators[seed.meta.doc_id]) for seed in seeds}
    return entries, spare


def reissue(meta, text: str, name: str, doc_id: str):
    """The seed document as if another city had issued it: its place name replaced everywhere."""
    from dataclasses import replace

    from retrieval.places import stem

    old = stem(meta.city)
    city = f"{name}市"
    new_meta = replace(
        meta, doc_id=doc_id, city=city, title=meta.title.replace(old, name), aliases=(name,), level="city",
        issuer=meta.issuer.replace(old, name), doc_number=meta.doc_number.replace(old[0], name[0]),
    )
    return new_meta, text.replace(meta.city, city).replace(old, name)


def _entry(meta, file_name: str, valid_until: str) -> dict:
    return {
        "doc_id": meta.doc_id, "file": file_name, "title": meta.title, "city": meta.city,
        "level": meta.level or "city", "province": meta.province, "issuer": meta.issuer, "date": meta.date,
        "doc_number": meta.doc_number, "aliases": list(meta.aliases), "valid_until": valid_until,
    }


def fill_store(work: Path, knowledge: Path) -> dict:
    """Index every catalog document into the store; copies reuse their seed's vectors."""
    from retrieval.catalog import load_catalog
    from retrieval.embedding import load_embedder
    from retrieval.indexer import content_hash, embedding_text, pipeline_fingerprint, prepare_bytes
    from retrieval.store import ChunkStore, PreparedDocument, collection_name, open_chroma

    embedder = load_embedder()
    store = ChunkStore(open_chroma(work / "index"), collection_name(embedder.name))
    pipeline = pipeline_fingerprint(knowledge)
    seed_vectors: dict[str, object] = {}
    embedded = embed_seconds = 0.0
    started = time.perf_counter()
    passages = 0
    for meta, path in load_catalog(knowledge):
        raw = path.read_bytes()
        chunks, _ = prepare_bytes(meta, raw, path.name)
        seed = meta.doc_id.rsplit("-", 1)[0]
        vectors = seed_vectors.get(seed)
        if vectors is None or len(vectors) != len(chunks):
            t0 = time.perf_counter()
            vectors = embedder.encode([embedding_text(meta, c) for c in chunks])
            embed_seconds += time.perf_counter() - t0
            embedded += len(chunks)
            seed_vectors.setdefault(seed, vectors)
        digest = content_hash(raw, meta, embedder.name, pipeline)
        store.add_document(PreparedDocument(meta, chunks, vectors, digest))
        passages += len(chunks)
    total = time.perf_counter() - started
    return {
        "passages": passages,
        "store_fill_s": round(total - embed_seconds, 2),
        "embedded_passages": int(embedded),
        "embedding_passages_per_s": round(embedded / embed_seconds, 1) if embed_seconds else None,
    }


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and its peak so far (Linux), in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line[:5]] = round(int(line.split()[1]) / 1024, 1)
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def serve(work: Path) -> dict:
    """The worker's side: start, answer, change; in its own process."""
    from db.core.engine import make_engine
    from db.core.migrate import upgrade_to_head
    from db.knowledge.changes import ChangeLog
    from db.knowledge.registry import Actor
    from knowledge.admin import KnowledgeBase
    from knowledge.uploads import Upload
    from retrieval.embedding import load_embedder
    from retrieval.evaluation import evaluate, read_eval_file
    from retrieval.service import PolicyService

    knowledge = work / "knowledge"
    t0 = time.perf_counter()
    embedder = load_embedder()
    model_load_s = time.perf_counter() - t0
    engine = make_engine(f"sqlite:///{work / 'bench.sqlite3'}")
    upgrade_to_head(engine)

    t0 = time.perf_counter()
    service = PolicyService(work / "index", knowledge, embedder=embedder, change_feed=ChangeLog(engine))
    report = service.build()
    check_s = time.perf_counter() - t0
    passages = len(service.searcher.corpus)
    service.warm_up()  # as a worker does before it answers (bot.app.load_policy_service)
    start_s = time.perf_counter() - t0
    assert not report.changed, "the bench's store should match its catalog"
    memory = {"started": rss_mb()}

    items = [item for path in DEV_SETS for item in read_eval_file(path)]
    service.ask(items[0].question)
    latencies: list[float] = []
    hits = []
    for _ in range(2):
        result = evaluate(lambda q: service.ask(q, use_llm=False), items)
        latencies += [row.latency_ms for row in result.rows]
        hits.append(result.summary().get("hit@1"))
    memory["answering"] = rss_mb()

    kb = KnowledgeBase(engine, service, dev_set=DEV_SETS[1])
    actor = Actor(cli_user="bench")
    spare = json.loads((work / "spare.json").read_text(encoding="utf-8"))
    from retrieval.catalog import load_catalog_entries

    seeds = {e.meta.doc_id: e for e in load_catalog_entries(KNOWLEDGE_DIR)}
    timings = {}
    for label, seed_id, evaluate_quality in (("publish_s", "xiamen", False), ("publish_with_quality_check_s", "zhangjiagang", True)):
        seed = seeds[seed_id]
        meta, text = reissue(seed.meta, seed.path.read_text(encoding="utf-8"), spare[seed_id], f"new-{seed_id}")
        draft = kb.ingest(
            Upload(text.encode(), f"{meta.doc_id}.txt", overrides={"title": meta.title, "city": meta.city}), actor
        )
        t0 = time.perf_counter()
        kb.publish(draft.id, actor, evaluate=evaluate_quality)
        timings[label] = round(time.perf_counter() - t0, 3)
        memory[f"after_{label[:-2]}"] = rss_mb()
    replaced_text = text.replace("托育", "托育服务", 1)
    draft = kb.ingest(Upload(replaced_text.encode(), "v2.txt", replace_doc_id=draft.doc_id), actor)
    t0 = time.perf_counter()
    kb.publish(draft.id, actor, evaluate=False)
    timings["replace_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    kb.retire(draft.doc_id, actor, evaluate=False)
    timings["retire_s"] = round(time.perf_counter() - t0, 3)
    memory["after_replace_and_retire"] = rss_mb()
    return {
        "passages_answering": passages,
        "model_load_s": round(model_load_s, 2),
        "catalog_check_s": round(check_s, 2),
        "start_s": round(start_s, 2),
        "ask_ms": latency_summary(latencies, 1),
        "dev_hit@1": hits[-1],
        **timings,
        "rss_mb": memory,
        # VmHWM, not getrusage: a child's ru_maxrss starts from its parent's size at fork.
        "peak_rss_mb": rss_mb()[1],
    }


def main() -> None:
    """Build the knowledge base, measure a worker on it, print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: a temporary directory)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(args.serve), ensure_ascii=False))
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-scale-"))
    try:
        result = build_and_measure(work, args.documents)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


def build_and_measure(work: Path, documents: int) -> dict:
    """Build in this process, measure a worker in a fresh one."""
    from db.core.engine import make_engine
    from db.core.migrate import upgrade_to_head
    from db.knowledge.changes import ChangeLog
    from retrieval.embedding import load_embedder
    from retrieval.service import PolicyService

    work.mkdir(parents=True, exist_ok=True)
    knowledge = work / "knowledge"
    if not knowledge.exists():
        _, spare = write_knowledge(knowledge, documents)
        (work / "spare.json").write_text(json.dumps(spare, ensure_ascii=False), encoding="utf-8")
        build = fill_store(work, knowledge)
        (work / "build.json").write_text(json.dumps(build), encoding="utf-8")
    build = json.loads((work / "build.json").read_text(encoding="utf-8"))
    engine = make_engine(f"sqlite:///{work / 'bench.sqlite3'}")
    upgrade_to_head(engine)
    service = PolicyService(work / "index", knowledge, embedder=load_embedder(), change_feed=ChangeLog(engine))
    service.snapshot_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    service.searcher  # noqa: B018  (tokenises every passage, saves the snapshot)
    build["lexical_index_and_snapshot_s"] = round(time.perf_counter() - t0, 2)
    build["snapshot_mb"] = round(service.snapshot_path.stat().st_size / 2**20, 1)
    engine.dispose()
    # A copy of the database per run, so repeated runs on a kept directory start from the same state.
    serve_dir = Path(tempfile.mkdtemp(prefix="serve-", dir=work))
    try:
        for name in ("knowledge", "index"):
            (serve_dir / name).symlink_to(work / name) if name == "knowledge" else shutil.copytree(work / name, serve_dir / name)
        shutil.copy(work / "bench.sqlite3", serve_dir / "bench.sqlite3")
        shutil.copy(work / "spare.json", serve_dir / "spare.json")
        output = subprocess.run(
            [sys.executable, "-m", "bench.kb_scale", "--serve", str(serve_dir)],
            capture_output=True, text=True, cwd=ROOT,
        )
        if output.returncode:
            raise SystemExit(f"the worker process failed:\n{output.stderr[-4000:]}")
        output = output.stdout
    finally:
        shutil.rmtree(serve_dir, ignore_errors=True)
    worker = json.loads(output.strip().splitlines()[-1])
    return {
        "benchmark": "kb_scale",
        "date": date.today().isoformat(),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
        "documents": documents,
        "build": build,
        "worker": worker,
    }


if __name__ == "__main__":
    main()
