"""An eval as plain data: its summary and answers, for `--json` and for metrics.sqlite."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from trainer.evaluation.evaluate import EvalReport
from trainer.store import Store
from trainer.store.metrics import AnswerEvalRow


def report_summary(report: EvalReport) -> dict[str, Any]:
    """Versions, scoring, each version's means and the comparison (docs/json.md)."""
    return {
        "versions": list(report.versions),
        "judge": report.judge,
        "by": report.by,
        "prompts": len(report.items),
        "means": [asdict(summary) for summary in report.summaries],
        "comparison": asdict(report.comparison) if report.comparison else None,
        "seconds": round(report.seconds, 3),
    }


def report_items(report: EvalReport) -> list[dict[str, Any]]:
    """Every prompt with its source, reference and each version's answer and scores."""
    return [
        {
            "prompt": item.prompt.text,
            "source": item.prompt.source,
            "reference": item.prompt.reference,
            "answers": [
                {"version": version, **asdict(answer)}
                for version, answer in zip(report.versions, item.answers, strict=True)
            ],
        }
        for item in report.items
    ]


def record_eval(store: Store, report: EvalReport, decision: str | None = None) -> int:
    """Record the eval in the store's metrics; returns its id."""
    return store.metrics.record_answer_eval(
        adapter_version=report.versions[0],
        against=report.versions[1] if len(report.versions) > 1 else None,
        judge=report.judge,
        by_score=report.by,
        summary=report_summary(report),
        items=report_items(report),
        decision=decision,
    )


def eval_overview(row: AnswerEvalRow) -> dict[str, Any]:
    """A recorded eval without its answers: what `dlm show` and `dlm metrics` list."""
    return {
        "eval_id": row.eval_id,
        "at": row.at,
        "versions": row.summary["versions"],
        "judge": row.judge,
        "by": row.by_score,
        "prompts": row.prompts,
        "means": row.summary["means"],
        "comparison": row.summary["comparison"],
        "decision": row.decision,
    }
