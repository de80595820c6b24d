"""`dlm export --format merged` on the tiny model: the checkpoint answers like `dlm prompt`,
the write is all or nothing, and the store records it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_json_docs import _documented, conforms
from trainer.export.ollama import CHATML_TEMPLATE, modelfile

runner = CliRunner()
QUESTION = "When does the Tern leave?"


def _greedy(checkpoint: Path, question: str, system_prompt: str, max_new_tokens: int) -> str:
    """The checkpoint's greedy answer, loaded by plain transformers (no dlm, no peft)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    model = AutoModelForCausalLM.from_pretrained(str(checkpoint)).eval()
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        output = model.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False)
    new_tokens = output[0, encoded["input_ids"].shape[1] :]
    return str(tokenizer.decode(new_tokens, skip_special_tokens=True)).strip()


def test_merged_export_answers_like_dlm_prompt(trained: Path) -> None:
    result = runner.invoke(app, ["export", str(trained), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    out = Path(summary["path"])
    assert (summary["adapter_version"], summary["format"], summary["quant"]) == (
        "v0001",
        "merged",
        None,
    )
    assert out.name == "v0001-merged" and out.parent.name == "exports"
    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json"} <= set(
        summary["files"]
    )
    assert "<|im_start|>" in (out / "chat_template.jinja").read_text(encoding="utf-8")
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".v0001-merged.partial")]

    prompt = runner.invoke(app, ["prompt", str(trained), QUESTION, "--max-new-tokens", "12"])
    assert prompt.exit_code == 0, prompt.output
    assert _greedy(out, QUESTION, "Be brief.", 12) == prompt.stdout.strip()

    shown = json.loads(runner.invoke(app, ["show", str(trained), "--json"]).stdout)
    (entry,) = shown["store"]["exports"]
    assert conforms(summary, _documented("dlm export --json"))
    assert conforms(shown["store"]["exports"], _documented("dlm show --json")["store"]["exports"])
    assert (entry["adapter_version"], entry["format"], entry["path"]) == (
        "v0001",
        "merged",
        str(out),
    )


def test_an_export_is_never_overwritten_without_force(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert runner.invoke(app, ["export", str(trained), "--out", str(out)]).exit_code == 0
    before = (out / "model.safetensors").stat().st_mtime_ns

    again = runner.invoke(app, ["export", str(trained), "--out", str(out)])
    assert again.exit_code == 1
    assert "already holds an export" in again.stderr and "--force" in again.stderr
    assert (out / "model.safetensors").stat().st_mtime_ns == before

    forced = runner.invoke(app, ["export", str(trained), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert str(out) in forced.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".export")) == [
        ".export.lock"
    ]


def test_an_interrupted_export_leaves_nothing(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(model_dir: Path, adapter_dir: Path | None, destination: Path) -> None:
        destination.mkdir(parents=True, exist_ok=True)
        (destination / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr("trainer.export.run.write_merged", interrupted)
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", str(trained), "--out", str(out)])
    assert result.exit_code != 0
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == [".export.lock"]


def test_option_errors_name_the_fix(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ollama = runner.invoke(app, ["export", str(trained), "--ollama", "notes"])
    assert ollama.exit_code == 1 and "--format gguf" in ollama.stderr
    quant = runner.invoke(app, ["export", str(trained), "--format", "gguf", "--quant", "q3"])
    assert quant.exit_code == 2 and "q4_k_m" in quant.output
    version = runner.invoke(app, ["export", str(trained), "--adapter-version", "7"])
    assert version.exit_code == 2 and "v0001" in version.stderr

    # GGUF needs llama.cpp's tools, built with uv: without uv, the error says how to get it.
    monkeypatch.setenv("DLM_TOOLS", str(tmp_path / "tools"))
    monkeypatch.setattr("trainer.export.toolenv.shutil.which", lambda name: None)
    result = runner.invoke(app, ["export", str(trained), "--format", "gguf"])
    assert result.exit_code == 1
    assert "uv is not on PATH" in result.stderr and "pip install uv" in result.stderr


def test_modelfile_renders_chatml_for_ollama() -> None:
    template = "{{ '<|im_start|>' + message['role'] }}...<|im_end|>"
    text = modelfile("notes.gguf", template, "Answer briefly.")
    assert text.startswith("FROM ./notes.gguf\n")
    assert f'TEMPLATE """{CHATML_TEMPLATE}"""' in text
    assert 'PARAMETER stop "<|im_start|>"' in text and 'PARAMETER stop "<|im_end|>"' in text
    assert "PARAMETER temperature 0\n" in text
    assert text.endswith('SYSTEM """Answer briefly."""\n')
    plain = modelfile("notes.gguf", "{{ messages }}", None)
    assert "TEMPLATE" not in plain and "SYSTEM" not in plain
