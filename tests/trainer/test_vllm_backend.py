"""The vLLM backend against a fake `vllm` that records the exact calls (tests/fake_vllm/);
one real run on a GPU machine, marked `gpu`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeVllmLog
from trainer.generation.backends import BackendError
from trainer.generation.backends import vllm as backend_module
from trainer.generation.backends.vllm import VllmBackend
from trainer.generation.backends.vllm_engine import VllmSettings, lora_rank_limit
from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate, prompt_seed
from trainer.models.tiny import build_tokenizer


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the tokenizer: the fake engine never reads weights."""
    directory = tmp_path_factory.mktemp("vllm-model")
    build_tokenizer(directory)
    return directory


@pytest.fixture
def adapter_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "v0003"
    directory.mkdir()
    (directory / "adapter_config.json").write_text(json.dumps({"r": 12}), encoding="utf-8")
    return directory


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four visible GPUs, as far as the backend's check can tell."""
    monkeypatch.setattr(backend_module, "visible_gpus", lambda: ["0", "1", "2", "3"])


def _loaded(model_dir: Path, adapter: Path | None, **sizes: int) -> VllmBackend:
    backend = VllmBackend(VllmSettings(model_dir, adapter, precision="bf16", seed=3, **sizes))
    backend.load()
    return backend


def _prompt_ids(model_dir: Path, prompt: str) -> list[int]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    text = tokenizer.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}],
        tokenize=False,
        add_generation_prompt=True,
    )
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_the_adapter_is_served_through_vllm_lora(
    model_dir: Path, adapter_dir: Path, fake_vllm: FakeVllmLog, gpus: None
) -> None:
    from transformers import AutoTokenizer

    end = AutoTokenizer.from_pretrained(str(model_dir)).convert_tokens_to_ids("<|im_end|>")
    backend = _loaded(model_dir, adapter_dir)
    config = Sampling(max_new_tokens=12, temperature=0.9, top_p=0.8, seed=5, samples=3)
    sampled = backend.sample(["a?", "b?"], config, system_prompt="Be brief.")

    [engine] = fake_vllm.calls("LLM")
    assert engine["model"] == str(model_dir)
    assert engine["kwargs"] == {
        "dtype": "bfloat16",
        "tensor_parallel_size": 1,
        "seed": 3,
        "enable_lora": True,
        "max_lora_rank": 16,  # rank 12, rounded up to a size vLLM accepts
        "max_loras": 1,
    }
    [lora] = fake_vllm.calls("LoRARequest")
    assert lora == {
        "call": "LoRARequest",
        "lora_name": "v0003",
        "lora_int_id": 1,
        "lora_path": str(adapter_dir),
    }
    params = [call["kwargs"] for call in fake_vllm.calls("SamplingParams")]
    assert params == [
        {
            "n": 3,
            "temperature": 0.9,
            "top_p": 0.8,
            "max_tokens": 12,
            "seed": prompt_seed(5, prompt),
            "stop_token_ids": [end],
        }
        for prompt in ("a?", "b?")
    ]
    [generate] = fake_vllm.calls("generate")
    assert generate["prompts"] == [
        {"prompt_token_ids": _prompt_ids(model_dir, "a?")},
        {"prompt_token_ids": _prompt_ids(model_dir, "b?")},
    ]
    assert generate["lora_request"] == {k: v for k, v in lora.items() if k != "call"}
    assert generate["use_tqdm"] is False

    assert list(sampled) == ["a?", "b?"]
    assert [c.truncated for c in sampled["a?"]] == [False, False, True]  # "length" is cut short
    assert all(isinstance(c, Candidate) and c.text.startswith(" The ") for c in sampled["b?"])


def test_a_prompts_candidates_do_not_depend_on_the_other_prompts(
    model_dir: Path, adapter_dir: Path, fake_vllm: FakeVllmLog, gpus: None
) -> None:
    backend = _loaded(model_dir, adapter_dir)
    config = Sampling(samples=4, seed=9)
    together = backend.sample(["a?", "b?", "c?"], config, system_prompt=None)
    alone = backend.sample(["b?"], config, system_prompt=None)
    assert together["b?"] == alone["b?"]
    assert len({c.text for c in together["b?"]}) > 1


def test_answer_is_one_sample_with_the_run_seed_stripped(
    model_dir: Path, adapter_dir: Path, fake_vllm: FakeVllmLog, gpus: None
) -> None:
    backend = _loaded(model_dir, adapter_dir)
    config = Sampling(max_new_tokens=7, temperature=0.0, top_p=0.95, seed=11, samples=4)
    text = backend.answer("a?", config, system_prompt=None)
    [params] = fake_vllm.calls("SamplingParams")
    assert params["kwargs"]["n"] == 1 and params["kwargs"]["seed"] == 11
    assert params["kwargs"]["temperature"] == 0.0  # greedy in vLLM
    assert text == text.strip() and text.startswith("The ")


def test_the_base_model_alone_enables_no_lora(
    model_dir: Path, fake_vllm: FakeVllmLog, gpus: None
) -> None:
    backend = _loaded(model_dir, None)
    backend.answer("a?", Sampling(), system_prompt=None)
    [engine] = fake_vllm.calls("LLM")
    assert "enable_lora" not in engine["kwargs"] and "max_lora_rank" not in engine["kwargs"]
    assert fake_vllm.calls("LoRARequest") == []
    assert fake_vllm.calls("generate")[0]["lora_request"] is None


def test_data_parallel_deals_prompts_to_replicas_on_their_own_gpus(
    model_dir: Path, adapter_dir: Path, fake_vllm: FakeVllmLog, gpus: None
) -> None:
    prompts = ["a?", "b?", "c?", "d?", "e?"]
    config = Sampling(samples=2, seed=1)
    seen: list[tuple[int, int]] = []
    replicas = _loaded(model_dir, adapter_dir, data_parallel_size=2, tensor_parallel_size=2)
    assert fake_vllm.calls("LLM") == []  # engines start in the replica processes
    split = replicas.sample(
        prompts, config, system_prompt=None, progress=lambda d, t: seen.append((d, t))
    )

    engines = fake_vllm.calls("LLM")
    assert sorted(e["cuda_visible_devices"] for e in engines) == ["0,1", "2,3"]
    assert all(e["kwargs"]["tensor_parallel_size"] == 2 for e in engines)
    shares = sorted(len(call["prompts"]) for call in fake_vllm.calls("generate"))
    assert shares == [2, 3]
    assert seen[-1] == (5, 5)

    single = _loaded(model_dir, adapter_dir).sample(prompts, config, system_prompt=None)
    assert split == single  # the split changes no candidate


def test_a_failing_replica_stops_the_run_with_its_message(
    model_dir: Path,
    adapter_dir: Path,
    fake_vllm: FakeVllmLog,
    gpus: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_VLLM_FAIL", "1")
    replicas = _loaded(model_dir, adapter_dir, data_parallel_size=2)
    with pytest.raises(BackendError, match=r"replica \d failed: RuntimeError: CUDA out of memory"):
        replicas.sample(["a?", "b?"], Sampling(samples=2), system_prompt=None)


def test_without_vllm_the_message_says_how_to_install_it_and_that_it_needs_a_gpu(
    model_dir: Path, adapter_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` raises ImportError
    with pytest.raises(BackendError) as raised:
        _loaded(model_dir, adapter_dir)
    message = str(raised.value)
    assert "needs vLLM, which cannot be imported" in message
    assert "uv pip install vllm --overrides overrides.txt" in message and "lark==1.3.1" in message
    assert "CUDA GPU" in message and "--backend hf" in message


def test_without_a_gpu_the_message_says_so(
    model_dir: Path, adapter_dir: Path, fake_vllm: FakeVllmLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BackendError, match=r"needs a CUDA GPU, and torch sees none") as raised:
        _loaded(model_dir, adapter_dir)
    assert "--backend hf" in str(raised.value)
    assert fake_vllm.calls() == []


def test_more_gpus_asked_for_than_visible(
    model_dir: Path, adapter_dir: Path, fake_vllm: FakeVllmLog, gpus: None
) -> None:
    with pytest.raises(BackendError, match=r"needs 6 GPUs; 4 visible \(0, 1, 2, 3\)"):
        _loaded(model_dir, adapter_dir, data_parallel_size=3, tensor_parallel_size=2)


@pytest.mark.parametrize(
    ("config", "limit"),
    [
        ({"r": 1}, 1),
        ({"r": 8}, 8),
        ({"r": 12}, 16),
        ({"r": 256}, 256),
        ({"r": 300}, 320),
        ({"r": 8, "rank_pattern": {"q_proj": 40}}, 64),
    ],
)
def test_max_lora_rank_is_the_smallest_vllm_size_that_holds_the_adapter(
    tmp_path: Path, config: dict[str, Any], limit: int
) -> None:
    (tmp_path / "adapter_config.json").write_text(json.dumps(config), encoding="utf-8")
    assert lora_rank_limit(tmp_path) == limit


def test_an_adapter_vllm_cannot_hold_or_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="not a readable PEFT adapter"):
        lora_rank_limit(tmp_path)
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 600}), encoding="utf-8")
    with pytest.raises(BackendError, match="rank is 600, above the 512 vLLM supports"):
        lora_rank_limit(tmp_path)


def test_settings_refuse_sizes_below_one(model_dir: Path) -> None:
    with pytest.raises(BackendError, match="at least 1"):
        VllmSettings(model_dir, None, data_parallel_size=0)


@pytest.mark.gpu
def test_real_vllm_samples_a_peft_adapter_reproducibly(tmp_path: Path) -> None:
    """On a CUDA machine with vLLM installed: a tiny Llama and a fresh PEFT adapter."""
    pytest.importorskip("vllm")
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    model_dir = tmp_path / "model"
    build_tokenizer(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=256,  # head size 64: what vLLM's attention kernels take
        intermediate_size=512,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(str(model_dir), safe_serialization=True)
    adapter = tmp_path / "v0001"
    lora = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    get_peft_model(model, lora).save_pretrained(str(adapter))

    backend = VllmBackend(VllmSettings(model_dir, adapter, precision="bf16", seed=0))
    backend.load()
    config_ = Sampling(max_new_tokens=8, temperature=1.0, seed=7, samples=3)
    both = backend.sample(["a?", "b?"], config_, system_prompt=None)
    alone = backend.sample(["b?"], config_, system_prompt=None)
    assert [len(both[p]) for p in ("a?", "b?")] == [3, 3]
    assert both["b?"] == alone["b?"]
    assert isinstance(backend.answer("a?", Sampling(temperature=0.0), system_prompt=None), str)
    backend.close()
