"""`dlm preference mine` end to end on a tiny model with a real `cli:` judge process."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import dlmlang
from dlm.cli import app
from tests.cli.test_train_cli import DLM_ID, write_document

runner = CliRunner()
JUDGE = Path(__file__).resolve().parents[1] / "trainer" / "scripts" / "judge.py"


def judge(*args: str) -> str:
    """A `cli:` selector running the test judge script with `args` (its mode first)."""
    return "cli:" + shlex.join([sys.executable, str(JUDGE), *args])


def _mine(path: Path, *extra: str, as_json: bool = True) -> object:
    return runner.invoke(
        app,
        [
            "preference",
            "mine",
            str(path),
            "--judge",
            judge("ok"),
            "--samples",
            "4",
            "--max-new-tokens",
            "12",
            "--temp",
            "1.5",
            "--threshold",
            "0.05",
            *(["--json"] if as_json else []),
            *extra,
        ],
    )


def test_mine_stages_then_applies_and_records_metrics(trained: Path, tmp_path: Path) -> None:
    before = trained.read_bytes()
    result = _mine(trained, "--progress", "jsonl", "--seed", "0")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert summary["pairs_mined"] == 1 and summary["write_mode"] == "staged"
    assert summary["run_id"] == 1 and summary["judge"].startswith("cli:")
    progress = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]  # type: ignore[attr-defined]
    assert {p["stage"] for p in progress} >= {"load", "sample", "judge", "write"}
    assert trained.read_bytes() == before  # staged only

    listed = json.loads(runner.invoke(app, ["preference", "list", str(trained), "--json"]).stdout)
    assert len(listed["staged"]) == 1
    again = _mine(trained, "--seed", "0")  # the same candidates: the pair is staged already
    assert again.exit_code == 2  # type: ignore[attr-defined]
    assert json.loads(again.stdout)["skipped"] == {"already_present": 1}  # type: ignore[attr-defined]

    applied = _mine(trained, "--apply", "--seed", "0")  # writes what an earlier run staged
    assert applied.exit_code == 0  # type: ignore[attr-defined]
    assert json.loads(applied.stdout)["write_mode"] == "applied"  # type: ignore[attr-defined]
    document = dlmlang.parse_bytes(trained.read_bytes())
    assert document.ok and sum(s.auto_mined for s in document.sections) == 1
    mined = next(s for s in document.sections if s.auto_mined)
    assert mined.marker is not None and mined.marker.mined_run_id == 1

    from trainer.store import Store

    events = Store.open(DLM_ID, tmp_path / "home").metrics.mining_events(1)
    assert [e["write_mode"] for e in events] == ["staged", "empty", "applied"]
    assert [e["seed"] for e in events] == [0, 0, 0]
    assert events[0]["pairs"][0]["margin"] > 0

    from tests.cli.test_json_docs import _documented

    shown = json.loads(runner.invoke(app, ["show", str(trained), "--json"]).stdout)
    documented = _documented("dlm show --json")["preference"]["last_mining"]
    assert set(shown["preference"]["last_mining"]) == set(documented)
    report = json.loads(runner.invoke(app, ["metrics", str(trained), "--json"]).stdout)
    mining = report["runs"][0]["mining"]
    documented_run = _documented("dlm metrics --json")["runs"][0]
    assert set(mining[0]) == set(documented_run["mining"][0])
    assert len(mining) == 3


def test_broken_judge_fails_before_sampling_and_stages_nothing(trained: Path) -> None:
    result = runner.invoke(
        app, ["preference", "mine", str(trained), "--judge", "cli:no-such-judge-xyz"]
    )
    assert result.exit_code == 1
    assert "was not found" in result.output
    listed = json.loads(runner.invoke(app, ["preference", "list", str(trained), "--json"]).stdout)
    assert listed["staged"] == []


def test_a_judge_that_breaks_mid_run_stages_nothing(trained: Path) -> None:
    result = runner.invoke(
        app, ["preference", "mine", str(trained), "--judge", judge("nan"), "--max-new-tokens", "4"]
    )
    assert result.exit_code == 1 and '"score" must be finite' in result.output
    listed = json.loads(runner.invoke(app, ["preference", "list", str(trained), "--json"]).stdout)
    assert listed["staged"] == []


def test_mining_needs_a_trained_adapter(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["preference", "mine", str(path)])
    assert result.exit_code == 1
    assert "No trained adapter" in result.output and "dlm train" in result.output


def test_mine_json_matches_docs(trained: Path) -> None:
    from tests.cli.test_json_docs import _documented

    summary = json.loads(_mine(trained).stdout)  # type: ignore[attr-defined]
    documented = _documented("dlm preference mine --json")
    assert set(summary) == set(documented)
    assert set(summary["pairs"][0]) == set(documented["pairs"][0])


def test_an_unknown_section_fails_before_any_model_loads(
    tiny_model_dir: Path, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trainer.models

    path = write_document(tmp_path, tiny_model_dir)
    section = dlmlang.parse(path.read_text(encoding="utf-8")).sections
    known = [s.section_id for s in section if s.kind is dlmlang.SectionKind.INSTRUCTION]

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was resolved before the sections were checked")

    monkeypatch.setattr(trainer.models, "resolve_base_model", no_model)
    result = runner.invoke(app, ["preference", "mine", str(path), "--section", "0123456789abcdef"])
    assert result.exit_code == 2, result.output
    assert "--section 0123456789abcdef: no such instruction section" in result.output
    assert all(section_id in result.output for section_id in known)
    from trainer.store import Store

    assert Store.open(DLM_ID, home).metrics.mining_events() == []  # no empty mining event


def test_progress_takes_only_the_formats_there_are(trained: Path) -> None:
    result = runner.invoke(app, ["preference", "mine", str(trained), "--progress", "bars"])
    assert result.exit_code == 2
    assert "Invalid value for '--progress'" in result.output and "jsonl" in result.output


def test_each_run_draws_a_fresh_seed_and_says_it(trained: Path) -> None:
    first, second = _mine(trained), _mine(trained)
    seeds = [json.loads(r.stdout)["seed"] for r in (first, second)]  # type: ignore[attr-defined]
    assert all(isinstance(seed, int) for seed in seeds) and seeds[0] != seeds[1]
    text = runner.invoke(
        app,
        [
            "preference",
            "mine",
            str(trained),
            "--judge",
            judge("ok"),
            "--samples",
            "2",
            "--max-new-tokens",
            "4",
            "--seed",
            "5",
            "--threshold",
            "100",
        ],
    )
    assert "seed 5 (--seed 5 mines the same again)" in text.stdout
    assert "1 prompt(s) with margin below the threshold" in text.stdout


def _cold_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mining samples from a model that cannot write blank tokens: at --temp 0.01 its
    answers are all the same, and not empty."""
    import trainer.generation.generate as generate
    from tests.trainer.test_miner_diversity import without_whitespace

    original = generate.load_for_generation

    def load(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        model, tokenizer = original(*args, **kwargs)
        without_whitespace(model, tokenizer)
        return model, tokenizer

    monkeypatch.setattr(generate, "load_for_generation", load)


def test_mining_raises_diversity_itself_and_says_so(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli.test_json_docs import _documented

    _cold_answers(monkeypatch)
    cold = ("--temp", "0.01", "--seed", "3", "--replace")
    raised = _mine(trained, *cold)
    assert raised.exit_code == 0, raised.output  # type: ignore[attr-defined]
    summary = json.loads(raised.stdout)  # type: ignore[attr-defined]
    assert summary["diversity"] == {
        "enabled": True,
        "resampled": 1,
        "temperatures": [0.755],
        "rescued": 1,
    }
    assert summary["pairs_mined"] == 1 and summary["skipped"] == {}
    assert summary["advice"][0].startswith("raised diversity: 1 prompt(s) with (near) identical")
    documented = _documented("dlm preference mine --json")["diversity"]
    assert set(summary["diversity"]) == set(documented)
    again = _mine(trained, *cold)  # the same seed draws the same extra passes
    assert json.loads(again.stdout) == summary  # type: ignore[attr-defined]

    text = _mine(trained, *cold, as_json=False)
    assert "raised diversity: 1 prompt(s)" in text.stdout  # type: ignore[attr-defined]

    off = _mine(trained, *cold, "--no-raise-diversity")
    assert off.exit_code == 2  # type: ignore[attr-defined]
    summary = json.loads(off.stdout)  # type: ignore[attr-defined]
    assert summary["skipped"] == {"insufficient_variety": 1}
    assert summary["diversity"] == {
        "enabled": False,
        "resampled": 0,
        "temperatures": [],
        "rescued": 0,
    }
    assert "drop --no-raise-diversity" in summary["advice"][0]
