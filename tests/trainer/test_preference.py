"""The preference phase on a tiny model: real trl DPO and ORPO, the held-out check, replay."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import dlmlang
from trainer.errors import TrainerError
from trainer.events import SilentEvents
from trainer.store import Store
from trainer.training.heldout import preference_check
from trainer.training.preference import PreferenceRequest, collect_preference_rows, run_preference
from trainer.training.preference_rows import PreferenceRow, split_preference_heldout
from trainer.training.preference_settings import PreferenceSettings
from trainer.training.sft import SFTRequest, run_sft
from trainer.training.sft_settings import SFTSettings

DLM_ID = "01JQ7Z0000000000000000000B"
QA = "::instruction::\n### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n"
MARKER = (
    '<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.5" '
    'judge_score_rejected="0.1" mined_at="2026-11-20T10:00:00Z" mined_run_id="1" -->'
)


def pair(prompt: str, chosen: str, rejected: str, *, mined: bool = False) -> str:
    marker = f"{MARKER}\n" if mined else ""
    return (
        f"::preference::\n{marker}### Prompt\n{prompt}\n### Chosen\n{chosen}\n"
        f"### Rejected\n{rejected}\n"
    )


HAND = pair("Who keeps the light?", "Morwenna Teague.", "Nobody knows.")
MINED = pair("When does the Tern leave?", "At 7:40 every morning.", "Whenever.", mined=True)
SIX = "".join(pair(f"Question {i}?", f"The harbour answer {i}.", f"No idea {i}.") for i in range(6))


def document(model_dir: Path, body: str, preference: str = "") -> tuple[dlmlang.Document, bytes]:
    text = (
        f"---\ndlm_id: {DLM_ID}\nbase_model: {model_dir}\ntraining:\n  sequence_len: 64\n"
        f"  micro_batch_size: 2\n{preference}---\n\n{body}"
    )
    parsed = dlmlang.parse(text)
    assert parsed.ok, parsed.diagnostics
    return parsed, text.encode()


def sft(model_dir: Path, store: Store) -> None:
    parsed, data = document(model_dir, QA)
    assert parsed.frontmatter is not None
    settings = SFTSettings.from_training(parsed.frontmatter.training, precision="fp32", max_steps=2)
    run_sft(SFTRequest(parsed, data, settings, model_dir, str(model_dir)), store, SilentEvents())


def request(
    model_dir: Path, body: str, *, preference: str = "", steps: int = 2, include_mined: bool = True
) -> PreferenceRequest:
    parsed, data = document(model_dir, body, preference)
    assert parsed.frontmatter is not None
    settings = PreferenceSettings.from_training(
        parsed.frontmatter.training, precision="fp32", max_steps=steps
    )
    return PreferenceRequest(
        parsed, data, settings, model_dir, str(model_dir), include_mined=include_mined
    )


def evals(store: Store, run_id: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for row in store.metrics.evals(run_id):
        found.setdefault(row.name, []).append(row.value)
    return found


def test_dpo_writes_a_new_version_and_a_dpo_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    sft(tiny_model_dir, store)
    result = run_preference(request(tiny_model_dir, QA + HAND + MINED), store, SilentEvents())
    assert (result.adapter_version, result.from_version, result.phase) == ("v0002", "v0001", "dpo")
    assert (result.steps, result.pairs, result.mined_pairs) == (2, 2, 1)
    run = store.metrics.run(result.run_id)
    assert run is not None and (run.phase, run.status, run.adapter_version) == (
        "dpo",
        "completed",
        "v0002",
    )
    assert run.config["reference"] == "pre_adapter" and run.config["from_version"] == "v0001"
    assert [s.step for s in store.metrics.steps(result.run_id)] == [1, 2]
    # Against a frozen copy of the starting adapter, the first step's rewards are zero.
    first = evals(store, result.run_id)
    assert first["train_reward_chosen"][0] == pytest.approx(0.0, abs=1e-6)
    saved = store.version_path("v0002")
    assert (saved / "adapter_model.safetensors").is_file() and not (saved / "ref").exists()
    assert store.current_version() == "v0002"


def test_dpo_reference_base_measures_against_the_bare_model(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    store = Store.open(DLM_ID, tmp_path)
    sft(tiny_model_dir, store)
    config = "  preference:\n    reference: base\n"
    result = run_preference(
        request(tiny_model_dir, QA + HAND, preference=config, steps=1), store, SilentEvents()
    )
    assert result.reference == "base"
    # The SFT adapter differs from the base model, so the first step's reward is not zero.
    assert abs(evals(store, result.run_id)["train_reward_chosen"][0]) > 1e-4


def test_orpo_runs_with_alpha_as_the_odds_ratio_weight(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    store = Store.open(DLM_ID, tmp_path)
    sft(tiny_model_dir, store)
    config = "  preference:\n    method: orpo\n    hyperparams:\n      alpha: 0.2\n"
    result = run_preference(
        request(tiny_model_dir, QA + HAND, preference=config), store, SilentEvents()
    )
    run = store.metrics.run(result.run_id)
    assert run is not None and (run.phase, run.config["alpha"]) == ("orpo", 0.2)
    assert result.reference is None and result.adapter_version == "v0002"
    before = _lora(store.version_path("v0001"))
    after = _lora(store.version_path("v0002"))
    assert any(not torch.equal(before[name], after[name]) for name in before)


def test_no_adapter_yet_is_a_clear_error_and_writes_nothing(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    store = Store.open(DLM_ID, tmp_path)
    with pytest.raises(TrainerError, match="Run `dlm train PATH`"):
        run_preference(request(tiny_model_dir, QA + HAND), store, SilentEvents())
    assert store.versions() == [] and store.metrics.runs() == []


def test_no_mined_leaves_only_hand_written_pairs(tiny_model_dir: Path, tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    rows = collect_preference_rows(
        request(tiny_model_dir, QA + HAND + MINED, include_mined=False), store
    )
    assert [r.prompt for r in rows.train] == ["Who keeps the light?"]
    with pytest.raises(TrainerError, match="excluded by --no-mined"):
        sft(tiny_model_dir, store)
        run_preference(
            request(tiny_model_dir, QA + MINED, include_mined=False), store, SilentEvents()
        )


def test_departed_preference_sections_are_replayed_unless_purged_or_mined_excluded(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    store = Store.open(DLM_ID, tmp_path)
    sft(tiny_model_dir, store)
    run_preference(request(tiny_model_dir, QA + HAND + MINED, steps=1), store, SilentEvents())
    later = collect_preference_rows(request(tiny_model_dir, QA + HAND), store)
    assert later.replayed == 1 and later.train[-1].auto_mined
    assert (
        collect_preference_rows(
            request(tiny_model_dir, QA + HAND, include_mined=False), store
        ).replayed
        == 0
    )
    mined_id = dlmlang.parse_section_text(MINED)
    assert mined_id is not None
    store.replay.purge([mined_id.section_id])
    assert collect_preference_rows(request(tiny_model_dir, QA + HAND), store).replayed == 0


def test_heldout_split_keeps_mined_pairs_for_training() -> None:
    rows = [PreferenceRow(f"s{i}", f"p{i}", "c", "r", auto_mined=i % 2 == 0) for i in range(12)]
    train, held = split_preference_heldout(rows)
    assert held and all(not r.auto_mined for r in held)
    assert len(train) + len(held) == 12 and split_preference_heldout(rows) == (train, held)
    assert split_preference_heldout(rows[:5]) == (rows[:5], [])


def test_heldout_check_is_recorded_before_and_after(tiny_model_dir: Path, tmp_path: Path) -> None:
    store = Store.open(DLM_ID, tmp_path)
    sft(tiny_model_dir, store)
    result = run_preference(request(tiny_model_dir, QA + SIX, steps=3), store, SilentEvents())
    assert result.heldout_pairs >= 1 and result.pairs == 6 - result.heldout_pairs
    assert result.before is not None and result.after is not None
    recorded = evals(store, result.run_id)
    for name in ("accuracy", "margin"):
        assert recorded[f"heldout_pref_{name}_before"] == [getattr(result.before, name)]
        assert recorded[f"heldout_pref_{name}_after"] == [getattr(result.after, name)]
    assert result.before.margin != result.after.margin


def test_check_of_a_fresh_adapter_is_exactly_neutral(tiny_model_dir: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear"))  # B = 0
    rows = [PreferenceRow("s", "Who keeps the light?", "Morwenna.", "Nobody.", False)]
    check = preference_check(model, tokenizer, rows, system_prompt=None, beta=0.1)
    assert check is not None and (check.pairs, check.accuracy, check.margin) == (1, 0.0, 0.0)


def _lora(directory: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(directory / "adapter_model.safetensors"))
