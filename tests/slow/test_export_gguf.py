"""`dlm export --format gguf` on the embedded model, answered by llama.cpp.

The tiny test model cannot become a GGUF: llama.cpp's converter recognises a BPE
tokenizer by hashing how it splits a fixed text, and the tiny tokenizer trained in the
test session is not one it knows (a test below checks that this fails cleanly). So the
GGUF tests use SmolLM2 with an adapter trained for a few steps: its f16 GGUF, run greedily
by llama.cpp, must give `dlm prompt`'s answer; q4_k_m must load and answer.

llama.cpp runs from the tool venv dlm builds (trainer/export/toolenv.py); it is the same
venv as tests/rewards/test_llm_judge_llamacpp.py's, under the tests' cache, built once.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import write_document
from tests.slow.conftest import CACHE, NEEDS_LLAMACPP
from trainer.export.toolenv import LlamaCppTools

pytestmark = [pytest.mark.slow, NEEDS_LLAMACPP]
runner = CliRunner()
SYSTEM_PROMPT = "You are the harbour assistant of Harwick Island. Answer briefly."
QUESTION = "When does the Tern leave Gullmouth?"
MAX_NEW_TOKENS = 24
DOCUMENT = f"""---
dlm_id: 01JQ7Z00000000000000000G6F
base_model: smollm2-135m
system_prompt: {SYSTEM_PROMPT}
training:
  max_steps: 2
  sequence_len: 64
  precision: fp32
---

::instruction::
### Q
{QUESTION}
### A
The Tern leaves Gullmouth pier at 7:40 every morning.
"""
# Greedy completion of the given token ids, like `dlm prompt` (which stops at <|im_end|>).
ANSWER = """
import json, sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=512, verbose=False, seed=0)
out = llm.create_completion(
    prompt=json.loads(sys.argv[2]), max_tokens=int(sys.argv[3]), temperature=0.0, top_k=1
)
print(json.dumps(out["choices"][0]["text"]))
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DLM_HOME with the embedded model converted (once, about half a minute)."""
    from trainer.models import resolve_base_model
    from trainer.runtime.environment import set_offline

    set_offline()
    root = tmp_path_factory.mktemp("export-home")
    resolve_base_model("smollm2-135m", root)
    return root


def _export(path: Path, *options: str) -> dict[str, object]:
    result = runner.invoke(app, ["export", str(path), "--format", "gguf", *options, "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def _llama_answer(tools: LlamaCppTools, gguf: Path, home: Path) -> str:
    """llama.cpp's greedy answer to QUESTION, the prompt tokenized as `dlm prompt` does."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(home / "models" / "smollm2-135m"))
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": QUESTION},
    ]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    argv = [str(tools.python), "-c", ANSWER, str(gguf), json.dumps(ids), str(MAX_NEW_TOKENS)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    return str(json.loads(done.stdout.strip().splitlines()[-1])).strip()


def test_gguf_exports_answer_in_llama_cpp(
    tools: LlamaCppTools, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_HOME", str(home))
    monkeypatch.setenv("DLM_TOOLS", str(CACHE))
    path = tmp_path / "notes.dlm"
    path.write_text(DOCUMENT, encoding="utf-8")
    trained = runner.invoke(app, ["train", str(path)])
    assert trained.exit_code == 0, trained.output
    prompt = runner.invoke(
        app, ["prompt", str(path), QUESTION, "--max-new-tokens", str(MAX_NEW_TOKENS)]
    )
    assert prompt.exit_code == 0, prompt.output

    f16 = _export(path, "--quant", "f16")
    assert f16["files"] == ["v0001-gguf-f16.gguf"]
    f16_file = Path(str(f16["path"])) / "v0001-gguf-f16.gguf"
    assert _llama_answer(tools, f16_file, home) == prompt.stdout.strip()

    q4 = _export(path, "--ollama", "harwick")
    assert q4["quant"] == "q4_k_m" and q4["files"] == ["Modelfile", "v0001-gguf-q4_k_m.gguf"]
    out = Path(str(q4["path"]))
    assert (out / "v0001-gguf-q4_k_m.gguf").stat().st_size < f16_file.stat().st_size / 2
    assert _llama_answer(tools, out / "v0001-gguf-q4_k_m.gguf", home)
    modelfile = (out / "Modelfile").read_text(encoding="utf-8")
    assert modelfile.startswith("FROM ./v0001-gguf-q4_k_m.gguf\n")
    assert f'SYSTEM """{SYSTEM_PROMPT}"""' in modelfile
    assert q4["ollama_command"] == f"ollama create harwick -f {out / 'Modelfile'}"

    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert [e["quant"] for e in shown["store"]["exports"]] == ["f16", "q4_k_m"]


def test_a_tokenizer_llama_cpp_does_not_know_fails_cleanly(
    tools: LlamaCppTools,
    tiny_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DLM_TOOLS", str(CACHE))
    path = write_document(tmp_path, tiny_model_dir)
    out = tmp_path / "export"
    result = runner.invoke(
        app,
        ["export", str(path), "--format", "gguf", "--adapter-version", "base", "--out", str(out)],
    )
    assert result.exit_code == 1
    assert "BPE pre-tokenizer was not recognized" in result.stderr
    assert "--format merged" in result.stderr and str(tmp_path / "export.log") in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".export")) == [
        ".export.lock"
    ]
