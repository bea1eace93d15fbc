"""The development question set before and after a knowledge-base change: which questions got worse."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KNOWLEDGE_DIR = Path(__file__).resolve().parent
#: The questions every change is checked against (a copy of the easy development set).
DEFAULT_DEV_SET = KNOWLEDGE_DIR / "eval" / "policy_qa_dev.jsonl"


@dataclass
class QualityChange:
    """The development set before and after a change."""

    before: dict
    after: dict
    worse: list[str] = field(default_factory=list)  # questions whose outcome got worse
    better: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> bool:
        """True when the hit rate, MRR or refusal accuracy fell, or any question got worse."""
        return bool(self.worse) or any(
            self.after.get(key, 0) < self.before.get(key, 0) - 1e-9
            for key in ("hit@5", "mrr@5", "refusal_accuracy")
        )

    def to_dict(self) -> dict:
        """JSON-ready form."""
        keys = (
            "questions",
            "hit@1",
            "hit@5",
            "mrr@5",
            "refusal_accuracy",
            "answerable_refused",
            "unanswerable_refused",
        )
        return {
            "before": {k: self.before.get(k) for k in keys},
            "after": {k: self.after.get(k) for k in keys},
            "dropped": self.dropped,
            "worse": self.worse,
            "better": self.better,
        }


def compare_reports(before, after) -> QualityChange:
    """Compare two `EvalReport`s of the same question set question by question."""
    change = QualityChange(before.summary(), after.summary())
    for old, new in zip(before.rows, after.rows, strict=True):
        if old.answerable:
            old_score = 0 if not old.answered or old.rank is None else 6 - old.rank
            new_score = 0 if not new.answered or new.rank is None else 6 - new.rank
        else:
            old_score, new_score = int(not old.answered), int(not new.answered)
        if new_score < old_score:
            change.worse.append(new.question)
        elif new_score > old_score:
            change.better.append(new.question)
    return change
