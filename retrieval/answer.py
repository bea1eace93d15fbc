"""Turn search results into an answer: the fact asked for, a verbatim quote and its source (extractive, the
default), or a short grounded text from an LLM when one is configured. Both refuse below the confidence bar,
and a passage that names the topic without the fact asked for is reported as such (`not_stated`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from retrieval import answer_type, money_roles, problems
from retrieval.asking_clause import asking_words
from retrieval.confidence import THRESHOLD, Signals, confidence, signals_of
from retrieval.document_facts import (
    FOOTER_LABELS,
    DocumentFact,
    document_fact,
    header_label,
    header_value,
    names_another_document,
)
from retrieval.follow_up import beyond_the_quote
from retrieval.other_scope import of_another_scope
from retrieval.salience import coverage
from retrieval.search import HybridSearcher, SearchResult
from retrieval.store import IndexedChunk
from retrieval.tables import BARE_VALUE, row_unit
from retrieval.units import (
    RESPONSIBLE_NOTE,
    TABLE_CELL,
    ages_in_ranges,
    is_table,
    quotable_units,
    responsible_units,
    with_responsible_notes,
    without_note,
)

MAX_QUOTES = 2
QUOTE_CHARS = 150  # a quote longer than this is cut to a window around the fact
# "The document names the topic but not the fact" needs the topic: most of the question's salient words.
NOT_STATED_COVERAGE = 0.5
PROBLEM_BONUS = 0.5  # the sentence names the problem a measure fixes, and the question asks for it
PROBLEM_REACH = 3  # how many of a city's best passages are looked at for one naming the problem


@dataclass(frozen=True)
class Source:
    """A cited passage."""

    doc_id: str
    title: str
    city: str
    section: str
    text: str
    score: float
    chunk_id: str

    def to_dict(self) -> dict:
        """The contract shape of a source (DESIGN.md): its fields but the internal `chunk_id`, the score rounded."""
        shape = asdict(self)
        del shape["chunk_id"]
        return shape | {"score": round(self.score, 4)}


@dataclass(frozen=True)
class Quote:
    """A verbatim sentence from a source passage."""

    text: str
    source: Source
    fact: str = ""  # the fact asked for, as the quote states it


@dataclass
class Answer:
    """What the bot says to a policy question."""

    question: str
    answered: bool
    quotes: list[Quote] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)  # the cities the answer is about
    named_cities: list[str] = field(default_factory=list)
    unknown_places: list[str] = field(default_factory=list)
    reason: str = ""  # "" | "not_found" | "not_stated" | "no_documents_for_place" | "out_of_scope"
    generated: str = ""  # the LLM's text, when an LLM answered
    effective_question: str = ""
    kind: str = answer_type.OTHER  # the kind of fact asked for
    missing_kinds: list[str] = field(default_factory=list)  # kinds asked for that the document does not state
    nearby: dict[str, list[str]] = field(default_factory=dict)  # place without documents → documented near it
    confidence: float = 0.0
    english: bool = False
    off_topic: bool = False  # out of scope because it is not about childcare at all (flights, food)

    @property
    def fact(self) -> str:
        """The direct answer: the fact of the first quote ("" when there is none)."""
        return self.quotes[0].fact if self.quotes else ""

    @property
    def differs_by_city(self) -> bool:
        """True when no city was named and several cities' documents answer differently."""
        return not self.named_cities and len(self.cities) > 1


def source_of(item: IndexedChunk, score: float = 0.0) -> Source:
    """The citable form of a stored passage."""
    return Source(
        doc_id=item.meta.doc_id,
        title=item.meta.title,
        city=item.meta.city,
        section=item.chunk.section_path,
        text=item.chunk.text,
        score=score,
        chunk_id=item.chunk.chunk_id,
    )


def _cells(row: str) -> list[tuple[str, str]]:
    out = []
    for part in row.split("; "):
        match = TABLE_CELL.match(part.strip())
        out.append((match.group(1).strip(), match.group(2).strip()) if match else ("", part.strip()))
    return out


_NUMERIC_KINDS = frozenset({answer_type.AMOUNT, answer_type.COUNT, answer_type.PERCENTAGE})


def _named_columns(cells: list[tuple[str, str]], question: str) -> list[str]:
    """The headers of the row's figure cells that the question names, without their bracketed notes
    (保税区 (含三个街道), 常阴沙示范园区): places the place list does not hold still pick their column."""
    named = []
    for header, value in cells:
        core = re.sub(r"\s*[(（][^)）]*[)）]\s*", "", header).strip()
        if len(core) >= 2 and BARE_VALUE.match(value) and core in question:
            named.append(header)
    return named


def _table_fact(row: str, kinds: list[str], places: list[str], salient: list | None = None) -> tuple[str, str]:
    """(fact, quoted cells) of a table row: the cell of the named place (a place of the hierarchy, or a column
    the question names), the lead unit, or the value."""
    cells = _cells(row)
    labels = [(h, v) for h, v in cells if v and not BARE_VALUE.match(v)]
    # The label that says what the row is about (三级指标: 医疗卫生机构与托育机构签约指导率(%)), not its group.
    label_cell = max(labels, key=lambda hv: coverage(salient, hv[1].lower())) if labels and salient else (
        next(iter(labels[:2]), ("", "")))
    label = f"{label_cell[0]}: {label_cell[1]}" if label_cell[0] else label_cell[1]

    def quoted(header: str, value: str) -> str:
        cell = f"{header}: {value}" if header else value
        return "; ".join(x for x in dict.fromkeys((label, cell)) if x)

    kind = kinds[0] if kinds else answer_type.OTHER
    # The named place's cell answers when it holds what was asked: a count is no department (凤凰镇: 430 does not
    # say which office is responsible).
    of_kind = kind not in answer_type.SPECIFIC or kind in _NUMERIC_KINDS
    for header, value in cells:
        if header and any(place in header for place in places) and (of_kind or answer_type.extract(kind, value)):
            return value, quoted(header, value)
    if kind == answer_type.UNIT:
        for header, value in cells:
            if "单位" in header or "部门" in header:
                return re.split(r"[、,，]", value)[0], quoted(header, value)
    if kind in _NUMERIC_KINDS:
        values = [(h, v) for h, v in cells if h and BARE_VALUE.match(v)]
        figure = _label_figure(kind, label_cell[1], salient) if values else ""
        if figure:
            return figure, label
        if values:
            header, value = values[0]
            unit = "" if not value[-1].isdigit() else row_unit(row) or ("%" if "%" in row else "")
            return f"{header}: {value}{unit}", quoted(header, value)
    for header, value in reversed(cells):
        if header and kind in answer_type.SPECIFIC and answer_type.extract(kind, value):
            fact = value if len(value) <= 20 else answer_type.extract(kind, value)
            return fact, quoted(header, value)
    return "", row


def _label_figure(kind: str, label: str, salient: list | None) -> str:
    """A figure inside a row's label (全日托平均价格(在2022年基础上下浮100~300元/月)) answers only when its own
    words carry what the question asks (便宜 → 下浮): then that figure, else "" (the row's value answers)."""
    in_label = answer_type.extract(kind, label) if label else ""
    if not (in_label and salient):
        return ""
    qualifier = next((c for c in re.split(r"[()（）]", label) if in_label in c), "")
    head = label.replace(qualifier, "")
    return in_label if any(w.covered_by(qualifier) == 1.0 and w.covered_by(head) < 1.0 for w in salient) else ""


def _window(text: str, fact: str, limit: int = QUOTE_CHARS) -> str:
    """`text` cut to about `limit` characters around `fact` (verbatim, with … where cut)."""
    if len(text) <= limit:
        return text
    at = text.find(fact) if fact else -1
    if at < 0:
        return text[: limit - 1] + "…"
    start = max(0, min(at - limit // 3, len(text) - limit))
    piece = text[start : start + limit]
    return ("…" if start > 0 else "") + piece + ("…" if start + limit < len(text) else "")


_CLAUSE_END = re.compile(r"[^，,；;。:：]+[，,；;。:：]?")


UNSINGLED_SHARE = 0.5  # a unit stating the kind without a figure to single out competes at this share
ASKING_WEIGHT = 0.3  # the unit also covers the clauses that ask (not only the scene the question sets)
_WH = re.compile(r"哪个|哪些|哪家|哪里|哪儿|在哪|多少|几|什么|怎么|谁|是否|有没有|能不能")
FOCUS_REACH = 8  # characters after a unit's name in which its verb stands (民政部门申请注册登记)
FOCUS_BONUS = 0.25  # the clause names what the question asks about (向哪个部门**备案**)


def _focus_word(result: SearchResult):
    """The salient word the question's asking word points at: the nearest one after it (向哪个部门备案 →
    备案), else the nearest before it; None for English questions or without an asking word."""
    if result.english:
        return None
    match = _WH.search(result.question)
    if not match:
        return None
    placed = [(result.question.find(s.word), s) for s in result.salient if result.question.find(s.word) >= 0]
    after = [(pos, s) for pos, s in placed if pos >= match.end() and s.weight >= 2.0]
    before = [(pos, s) for pos, s in placed if pos < match.start() and s.weight >= 2.0]
    if after:
        return min(after, key=lambda item: item[0])[1]
    return max(before, key=lambda item: item[0])[1] if before else None


def _acts_on(focus, clause: str, unit_name: str) -> bool:
    """True when `clause` holds the word the question's asking word points at; for a unit, right after the
    unit's name (向县级卫生健康部门备案 answers 向哪个部门备案; 向民政部门申请注册登记 in a clause about 备案 does not)."""
    if focus.covered_by(clause) < 1.0:
        return False
    if not unit_name:
        return True
    at = clause.find(unit_name.lower())
    return at >= 0 and any(form in clause[at + len(unit_name) : at + len(unit_name) + FOCUS_REACH]
                           for form in (focus.word, *focus.alternatives))


def _clause_fact(result: SearchResult, unit: str, asked: answer_type.Asked) -> tuple[float, str]:
    """(score, fact) from the clause of `unit` that answers: each clause is scored by its own words, with the
    one before it (the condition, e.g. 举办社会服务机构性质托育机构的, then 向…民政部门申请注册登记) breaking ties.
    A figure with its unit (30%, 16个) is preferred to a bare number in a better-scoring clause."""
    kind = result.specific_kinds[0]
    note = responsible_units(unit) if kind == answer_type.UNIT else ""
    if note:
        return _noted_fact(result, unit, note, asked)
    # What the question does not ask about (a part after 其中:, an increase) goes first: split at the colon,
    # a part would no longer show whose part it is.
    if kind in (answer_type.COUNT, answer_type.AMOUNT):
        unit = asked.relevant(unit)
    # A name is told by the words around it, which a clause may cut off (“医呼通”智慧婴育数字化系统 in a sentence
    # that first names “浙有善育”系统): the whole unit is one clause.
    clauses = [unit] if kind == answer_type.NAME else _CLAUSE_END.findall(unit) or [unit]
    focus = _focus_word(result)
    responsible = kind == answer_type.UNIT and bool(_ASKS_RESPONSIBLE.search(result.question))
    money = asked.money if kind == answer_type.AMOUNT else frozenset()
    for strict in (True, False):
        best: tuple[float, str] | None = None
        for i, clause in enumerate(clauses):
            fact = doer_of(clause) if responsible else ""
            fact = fact or answer_type.extract(kind, clause, strict=strict, asked=asked)
            context = "".join(clauses[max(0, i - 1) : i + 1]).lower()
            if not fact or not money_roles.names_money(context, money):  # a sum of another kind
                continue
            score = coverage(result.salient, clause.lower()) + 0.5 * coverage(result.salient, context)
            if focus is not None and _acts_on(focus, clause.lower(), fact if kind == answer_type.UNIT else ""):
                score += FOCUS_BONUS * (2 if kind == answer_type.UNIT else 1)
            if best is None or score > best[0]:
                best = (score, fact)
        if best:
            return best
    # The unit states the kind but no single figure can be singled out (分别设置2个、3个、4个…): it still
    # competes by its words, at half their weight (a unit that gives the fact goes first), and is quoted
    # without a first line.
    return UNSINGLED_SHARE * max(coverage(result.salient, c.lower()) for c in clauses), ""


# Who does what a clause says: 市妇保院负责理论培训, 9家县级妇幼机构负责实训带教.
_DOER = re.compile(r"^[(（]?(?:即[:：]?)?(?P<who>[^，,；;。:：(（]{2,16}?)(?:负责|牵头|承担)")


def doer_of(clause: str) -> str:
    """Who the clause says is responsible ("" when it names no one before 负责/牵头/承担)."""
    match = _DOER.match(clause.strip())
    who = match.group("who").strip() if match else ""
    return "" if not who or who.startswith(("由", "并", "和", "及", "要", "应", "各", "将")) else who


# Asking who carries a task out, not which body a sentence names (哪个部门负责…, 牵头单位是谁, who is responsible).
_ASKS_RESPONSIBLE = re.compile(r"负责|责任|牵头|主责|主管|谁来|管|参与|responsib|in charge|\blead|listed", re.I)


def _noted_fact(result: SearchResult, unit: str, note: str, asked: answer_type.Asked) -> tuple[float, str]:
    """(score, fact) of a sentence carrying its item's note of responsible units: the units the note names
    when the question asks who is responsible or the sentence names no body; otherwise the body the sentence
    names (向县级卫生健康部门备案: 县级卫生健康部门)."""
    sentence = without_note(unit)
    clauses = _CLAUSE_END.findall(sentence)
    score = max((coverage(result.salient, c.lower()) for c in clauses), default=0.0)
    score += 0.5 * coverage(result.salient, sentence.lower())
    if _ASKS_RESPONSIBLE.search(result.question) or not sentence:
        return score + FOCUS_BONUS * 2, note
    own_score, own = _clause_fact(result, sentence, asked)
    # A body the sentence names (向县级卫生健康部门备案, 依托卫健部门、计生协会) answers what it does; the note, said of
    # the whole item, answers when the sentence names none.
    return (own_score, own) if own else (score, note)


def _best_clause(result: SearchResult, unit: str) -> str:
    """The clause of `unit` that covers the question best (where to centre a long quote without a fact)."""
    clauses = _CLAUSE_END.findall(unit) or [unit]
    return max(clauses, key=lambda c: coverage(result.salient, c.lower())).strip("，,；;。:：")


def _best_unit(result: SearchResult, text: str, section: str) -> tuple[float, str, str]:
    """(score, quote, fact) of the best quotable unit of a passage: for a question asking for a kind of
    fact, the unit whose answering clause covers the question best; otherwise the unit that covers it best."""
    kinds = result.specific_kinds
    asked = result.asked
    asks_problem = not kinds and problems.asks_problem(result.question)
    best: tuple[float, str, str] | None = None
    units = quotable_units(text)
    # "农业农村局也有责任吗": the note of responsible units says so, and its words count.
    asks_if_responsible = answer_type.YES_NO in result.kinds and bool(_ASKS_RESPONSIBLE.search(result.question))
    noted = answer_type.UNIT in kinds or asks_if_responsible
    # A sentence is chosen by all the question's words, and again by those of the clauses that ask.
    asking = [] if result.english else asking_words(result.question, result.salient)
    candidates = with_responsible_notes(units) if noted else units
    for i, unit in enumerate(candidates):
        body = unit if asks_if_responsible else without_note(unit)
        score = coverage(result.salient, f"{section} {body} {ages_in_ranges(unit)}".lower())
        score += ASKING_WEIGHT * coverage(asking, body.lower())
        stated = all(answer_type.states(kind, unit, asked) for kind in kinds)
        score += 0.5 * float(stated and bool(kinds))
        score += 0.25 * float(any(place in unit for place in result.sub_places))
        if is_table(text):
            places = result.sub_places + _named_columns(_cells(unit), result.question)
            fact, quote = _table_fact(unit, result.kinds, places, result.salient)
            if BARE_VALUE.match(fact) and fact[-1].isdigit():
                fact += row_unit(unit)  # 凤凰镇: 430 in a row of 辖区总托位数(个) → 430个
            if any(value.strip() in asked.given for _, value in _cells(unit)):
                fact = ""  # the row the parent already read (全日托…1787): what they ask about is another one
        else:
            clause_score, fact = _clause_fact(result, unit, asked) if kinds and stated else (0.0, "")
            score += clause_score
            if asks_problem and (problem := problems.problem_named(without_note(unit))):
                score, fact = score + PROBLEM_BONUS, problem  # 想治哪些老毛病: 解决…收费标准过高…的问题
            shown = unit if kinds or fact else _with_next(candidates, i)
            quote = _window(shown, fact or _best_clause(result, unit))
        if best is None or score > best[0]:
            best = (score, quote, fact)
    return best or (0.0, text[:QUOTE_CHARS], "")


def _with_next(units: list[str], i: int) -> str:
    """An open question's sentence with the one after it, which often says what or how (…开设特殊儿童托育实验班。
    在实验班开展特殊儿童托育标准研究…); the quote is still cut to `QUOTE_CHARS` around the chosen sentence."""
    if i + 1 >= len(units) or RESPONSIBLE_NOTE.match(units[i + 1]):
        return units[i]
    return units[i] + units[i + 1]


def select_quotes(result: SearchResult, searcher: HybridSearcher, sources: list[Source]) -> list[Quote]:
    """The best unit of the best passage of each answering city (at most `MAX_QUOTES`), verbatim."""
    quotes: list[Quote] = []
    asks_problem = not result.specific_kinds and problems.asks_problem(result.question)
    for city in result.answer_cities:
        of_city = [(hit, source) for hit, source in zip(result.hits, sources, strict=True) if hit.item.meta.city == city]
        if asks_problem:  # a close passage that names the problem a measure fixes answers "what problem" first
            naming = [pair for pair in of_city[:PROBLEM_REACH] if problems.problem_named(pair[0].item.chunk.text)]
            of_city = naming[:1] + of_city
        for hit, source in of_city[:1]:
            _, text, fact = _best_unit(result, hit.item.chunk.text, source.section)
            quotes.append(Quote(text, source, fact))
        if len(quotes) >= MAX_QUOTES:
            break
    return quotes


# How the catalog's fields are labelled in a quote (the words of the documents' own headers).
_FIELD_LABELS = {"doc_number": "文号", "issuer": "发布机关", "date": "发布日期"}


def _document_answer(answer: Answer, found: DocumentFact) -> Answer:
    """The answer to a question about the document itself, from its catalog entry (its header's fields)."""
    meta = found.meta
    text = f"{_FIELD_LABELS.get(found.field, found.field)}：{found.value}"
    source = Source(meta.doc_id, meta.title, meta.city, "", text, 1.0, "")
    answer.answered = True
    answer.kind = "document"
    answer.cities = [meta.city]
    answer.confidence = 1.0
    answer.quotes = [Quote(text, source, found.value)]
    return answer


def _header_fact(result: SearchResult, searcher: HybridSearcher) -> DocumentFact | None:
    """A field of the front matter the question names (索引号, 公文生成日期), from the best document's own
    front matter (its passages outside every section)."""
    label = header_label(result.question)
    meta = result.hits[0].item.meta
    if not label or names_another_document(result.question, meta.title):
        return None
    # A letter's closing fields (联系人, 邮编) stand at its end; the others in its front matter.
    everywhere = label in FOOTER_LABELS
    front = [item.chunk.text for item in searcher.items if item.meta.doc_id == meta.doc_id
             and (everywhere or tuple(item.chunk.section) in ((), (meta.title,)))]
    value = header_value(label, front)
    return DocumentFact(meta, label, value) if value else None


def build_answer(result: SearchResult, searcher: HybridSearcher) -> Answer:
    """The extractive answer for a search result: answered, or refused with the reason."""
    sources = [source_of(hit.item, hit.score) for hit in result.hits]
    answer = Answer(
        question=result.question,
        answered=False,
        sources=sources,
        named_cities=list(result.cities),
        unknown_places=list(result.unknown_places),
        effective_question=result.question,
        kind=result.kinds[0] if result.kinds else answer_type.OTHER,
        nearby=dict(result.nearby),
        english=result.english,
    )
    if result.scope:
        answer.reason = result.scope
        answer.off_topic = result.off_topic
        return answer
    if not result.hits:
        answer.reason = "not_found"
        return answer
    # The front matter's own words first (发布机构:厦门市卫生健康委员会办公室), then the catalog's fields.
    about_document = _header_fact(result, searcher) if result.cities else None
    about_document = about_document or (document_fact(result.question, result.hits[0].item.meta) if result.cities else None)
    if about_document is not None:
        return _document_answer(answer, about_document)
    signals = signals_of(result)
    answer.confidence = confidence(signals)
    if answer.confidence >= THRESHOLD and signals.states:
        answer.answered = True
        answer.cities = list(result.answer_cities)
        answer.quotes = select_quotes(result, searcher, sources)
        # A figure of the whole city asked for a district, of another year, a date of another event, a follow-up
        # (…，那…) the quote does not cover: not stated.
        quote = answer.quotes[0]
        if of_another_scope(result.question, result.kinds, result.sub_places, quote.text, quote.fact) or (
            beyond_the_quote(result.question, result.salient, quote.text)
        ):
            answer.answered, answer.reason, answer.missing_kinds = False, "not_stated", [answer.kind]
            answer.quotes = [Quote(quote.text, quote.source)]
        return answer
    # Would the best passage answer if it stated the fact? Then the topic is there but not the fact.
    stated_anyway = confidence(Signals(signals.coverage, 1.0, signals.dense, signals.margin, signals.scope))
    if result.specific_kinds and not signals.states and stated_anyway >= THRESHOLD and signals.coverage >= NOT_STATED_COVERAGE:
        answer.reason = "not_stated"
        top = result.hits[0]
        answer.cities = [top.item.meta.city]
        answer.missing_kinds = [k for k in result.specific_kinds if not answer_type.states(k, top.item.chunk.text)]
        _, text, _ = _best_unit(result, top.item.chunk.text, sources[0].section)
        answer.quotes = [Quote(text, sources[0])]
        return answer
    answer.reason = "not_found"
    return answer
