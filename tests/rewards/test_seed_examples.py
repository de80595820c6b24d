"""Every Python example of the reward-model source document, run as written.

Each example's code is kept verbatim below and executed; the only changes are the
ones `run` makes and each test names: `from reward_hub import ...` reads dlm's classes
(`tests/rewards/seed_names.py`), the logger is dlm's (`dlm.rewards`), endpoint URLs
point at a local fake OpenAI server, and `device="cuda"` becomes `"cpu"` on a machine
without CUDA. Hub names stay as written: `offline_hub` is a Hugging Face cache holding
tiny models under those names, built with each model's architecture, config keys and
head, whose own code (`remote_heads.py`) loads through `trust_remote_code`. vLLM is a
stand-in engine that runs the same checkpoint with transformers.

Not run: the DrSow example (dlm has no DrSow; `dlm reward train` trains a reward
model from a document's pairs, docs/judges.md) and the its_hub Best-of-N example
(its_hub is another package; dlm's best-of-N is `dlm prompt --best-of`).
"""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.rewards.fake_openai import FakeOpenAI, answer_of
from trainer.rewards.base import JudgeError, RewardDetails
from trainer.rewards.process import ProcessRM
from trainer.rewards.vllm import VllmRM

MESSAGES = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "2+2 equals 4."},
]

AUTORM = """\
from reward_hub import AutoRM

# Load any supported reward model
rm = AutoRM.load("Qwen/Qwen2.5-Math-PRM-7B", load_method="vllm")

# Score responses
scores = rm.score(messages)
"""

ORM = """\
# Load ORM
orm = AutoRM.load("internlm/internlm2-7b-reward", load_method="vllm")

# Score a response
messages = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "2+2 equals 4."},
]
score = orm.score(messages)
print(score)  # e.g., 0.85
"""

PRM = '''\
# Load PRM
prm = AutoRM.load("Qwen/Qwen2.5-Math-PRM-7B", load_method="vllm")

# Score step by step
response = """Let me solve this step by step.
Step 1: First, I'll add 2+2.
Step 2: 2+2 = 4.
Therefore, the answer is 4."""

step_scores = prm.score_steps(
    prompt="What is 2+2?",
    response=response,
    step_delimiter="\\n",
)
print(step_scores)  # [0.9, 0.95, 0.98]
'''

JUDGE = '''\
from reward_hub import LLMJudge

judge = LLMJudge(
    model="gpt-4",
    api_base="https://api.openai.com/v1",
    api_key="sk-...",
    rubric="""
    Score the response from 1-5 based on:
    - Correctness (weight: 0.5)
    - Clarity (weight: 0.3)
    - Completeness (weight: 0.2)
    """,
)

score = judge.score(prompt="Explain gravity", response="...")
'''

VLLM_LOAD = """\
rm = AutoRM.load(
    "Qwen/Qwen2.5-Math-PRM-7B",
    load_method="vllm",
    tensor_parallel_size=2,  # Multi-GPU
    gpu_memory_utilization=0.8,
)
"""

TRANSFORMERS_LOAD = """\
rm = AutoRM.load(
    "internlm/internlm2-7b-reward",
    load_method="transformers",
    device="cuda",
    torch_dtype="bfloat16",
)
"""

API_LOAD = """\
rm = AutoRM.load(
    "custom-rm",
    load_method="api",
    api_base="http://localhost:8000/v1",
)
"""

BATCH = """\
# Score multiple responses efficiently
batch_messages = [
    [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}],
    [{"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}],
    [{"role": "user", "content": "Q3"}, {"role": "assistant", "content": "A3"}],
]

scores = rm.score_batch(batch_messages, batch_size=32)
print(scores)  # [0.8, 0.6, 0.9]
"""

CUSTOM = '''\
from reward_hub import BaseRM

class CustomRM(BaseRM):
    """Custom reward model implementation."""

    def __init__(self, **config):
        super().__init__()
        self.config = config

    def score(self, messages: list[dict]) -> float:
        response = messages[-1]["content"]
        # Custom scoring logic
        score = 0.0
        if "step by step" in response.lower():
            score += 0.2
        if len(response) > 100:
            score += 0.3
        # Add more criteria...
        return min(score, 1.0)

    def score_batch(self, batch: list, **kwargs) -> list[float]:
        return [self.score(msgs) for msgs in batch]
'''

ENSEMBLE = """\
from reward_hub import EnsembleRM

# Combine multiple RMs
ensemble = EnsembleRM([
    (AutoRM.load("model1"), 0.5),  # (model, weight)
    (AutoRM.load("model2"), 0.3),
    (custom_rm, 0.2),
])

score = ensemble.score(messages)
"""

CACHING = """\
from reward_hub import AutoRM, CachedRM

# Wrap with caching for repeated queries
rm = AutoRM.load("Qwen/Qwen2.5-Math-PRM-7B", load_method="vllm")
cached_rm = CachedRM(rm, cache_dir="./rm_cache")

# Same query returns cached result
score1 = cached_rm.score(messages)  # Computed
score2 = cached_rm.score(messages)  # Cached
"""

DEBUGGING = """\
# Enable detailed logging
import logging
logging.getLogger("reward_hub").setLevel(logging.DEBUG)

# Get detailed score breakdown
score, details = rm.score(messages, return_details=True)
print(details)
# {'raw_logits': [...], 'normalized_score': 0.85, 'tokens_scored': 150}
"""


def run(code: str, namespace: dict[str, Any], **replace: str) -> dict[str, Any]:
    """Execute an example with dlm's names for the document's package, plus `replace`."""
    code = code.replace("from reward_hub import", "from tests.rewards.seed_names import")
    code = code.replace('getLogger("reward_hub")', 'getLogger("dlm.rewards")')
    for old, new in replace.items():
        assert old in code, old
        code = code.replace(old, new)
    exec(compile(code, "<seed example>", "exec"), namespace)
    return namespace


class StubLLM:
    """vLLM's pooling runner, played by transformers on the same checkpoint."""

    created: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, model: str, **options: Any) -> None:
        from transformers import AutoModel

        StubLLM.created.append({"model": model, **options})
        self.model = AutoModel.from_pretrained(model, trust_remote_code=True).eval()

    def reward(self, prompts: list[dict[str, list[int]]], use_tqdm: bool) -> list[Any]:
        """One pooled output per prompt: per-token pairs (PRM) or the score (ORM)."""
        import torch

        outputs = []
        for prompt in prompts:
            with torch.no_grad():
                logits = self.model(torch.tensor([prompt["prompt_token_ids"]])).logits[0]
            data = logits.tolist() if logits.shape[-1] == 2 else logits.flatten().tolist()
            outputs.append(types.SimpleNamespace(outputs=types.SimpleNamespace(data=data)))
        return outputs


@pytest.fixture
def stub_vllm(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`import vllm` gives the stand-in engine; returns the engines it created."""
    StubLLM.created = []
    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=StubLLM))
    return StubLLM.created


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible endpoint grading every answer."""
    with FakeOpenAI().running() as fake:
        yield fake


def start(**names: Any) -> dict[str, Any]:
    """A namespace holding what earlier examples defined."""
    from tests.rewards.seed_names import AutoRM

    return {"AutoRM": AutoRM, "messages": MESSAGES, **names}


def test_autorm_and_the_process_model(offline_hub: Path, stub_vllm: list[Any]) -> None:
    scores = run(AUTORM, start())["scores"]
    assert isinstance(scores, float) and 0.0 < scores < 1.0
    namespace = run(PRM, start())
    assert isinstance(namespace["prm"], VllmRM)
    steps = namespace["step_scores"]
    assert len(steps) == 4 and all(0.0 < s < 1.0 for s in steps)
    assert not stub_vllm[0]["trust_remote_code"]  # vLLM runs Qwen's PRM without its code


def test_the_outcome_model_asks_for_remote_code_then_scores(
    offline_hub: Path, stub_vllm: list[Any]
) -> None:
    with pytest.raises(JudgeError, match="trust_remote_code"):
        run(ORM, start())
    opted_in = 'load_method="vllm", trust_remote_code=True'
    namespace = run(ORM, start(), **{'load_method="vllm"': opted_in})
    assert isinstance(namespace["score"], float)


def test_the_llm_judge_takes_prompt_and_response(server: FakeOpenAI) -> None:
    namespace = run(JUDGE, start(), **{"https://api.openai.com/v1": server.url})
    assert 0 <= namespace["score"] <= 10
    assert answer_of(server.graded()[-1].body).strip() == "..."


def test_the_loading_methods(offline_hub: Path, stub_vllm: list[Any], server: FakeOpenAI) -> None:
    assert isinstance(run(VLLM_LOAD, start())["rm"], VllmRM)
    assert stub_vllm[0]["tensor_parallel_size"] == 2
    assert stub_vllm[0]["gpu_memory_utilization"] == 0.8
    device = {} if _cuda() else {'device="cuda"': 'device="cpu"'}
    with pytest.raises(JudgeError, match="trust_remote_code"):
        run(TRANSFORMERS_LOAD, start(), **device)
    opted_in = {'torch_dtype="bfloat16",': 'torch_dtype="bfloat16", trust_remote_code=True,'}
    rm = run(TRANSFORMERS_LOAD, start(), **device, **opted_in)["rm"]
    assert isinstance(rm.score(MESSAGES), float)
    api = run(API_LOAD, start(), **{"http://localhost:8000/v1": server.url})["rm"]
    scores = run(BATCH, start(rm=api))["scores"]
    answers = sorted(answer_of(seen.body).strip() for seen in server.graded()[-3:])
    assert len(scores) == 3 and answers == ["A1", "A2", "A3"]


def test_a_custom_model_in_an_ensemble(offline_hub: Path) -> None:
    custom_rm = run(CUSTOM, start())["CustomRM"]()
    namespace = run(ENSEMBLE, start(custom_rm=custom_rm))
    members = namespace["ensemble"].score(MESSAGES, return_details=True)[1].members
    assert [m.weight for m in members] == [0.5, 0.3, 0.2]
    assert namespace["score"] == pytest.approx(sum(m.weight * m.common for m in members))


def test_caching(
    offline_hub: Path,
    stub_vllm: list[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = run(CACHING, start())
    assert namespace["score1"] == namespace["score2"]
    assert namespace["cached_rm"].hits == 1 and (tmp_path / "rm_cache").is_dir()


def test_debugging(offline_hub: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tests.rewards.seed_names import AutoRM

    rm = AutoRM.load("Qwen/Qwen2.5-Math-RM-72B", trust_remote_code=True)
    with caplog.at_level(logging.NOTSET):
        namespace = run(DEBUGGING, start(rm=rm))
    details = namespace["details"]
    assert isinstance(details, RewardDetails) and details.score == namespace["score"]
    assert details.raw_logits and details.tokens_scored > 0
    assert any(r.name == "dlm.rewards" and r.levelno == logging.DEBUG for r in caplog.records)


def test_the_process_model_on_transformers(offline_hub: Path) -> None:
    from tests.rewards.seed_names import AutoRM

    prm = AutoRM.load("Qwen/Qwen2.5-Math-PRM-7B", trust_remote_code=True)
    assert isinstance(prm, ProcessRM)
    steps = prm.score_steps(prompt="What is 2+2?", response="A.\nB.\nC.", step_delimiter="\n")
    assert len(steps) == 3


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def test_score_takes_a_conversation_or_a_question_and_answer_not_both() -> None:
    from tests.rewards.plugins.seed_custom_rm import CustomRM
    from trainer.rewards.ensemble import EnsembleRM

    judge = EnsembleRM([(CustomRM(), 1.0)])
    assert judge.score(prompt="Q?", response="Soon.") == judge.score(MESSAGES)
    with pytest.raises(JudgeError, match="not both"):
        judge.score(MESSAGES, prompt="Q?", response="A.")
    with pytest.raises(JudgeError, match="half"):
        judge.score(prompt="Q?")
