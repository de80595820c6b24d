"""Does the loop improve held-out answers? SFT alone vs after 1 and 3 gated rounds.

Run: `uv run python bench/loop.py [--rounds 3] [--samples 4] [--device auto|cpu|cuda]
[--keep DIR]`.

The document (`bench/loop/harbour.dlm`) teaches facts and a house style the base model
lacks (answers begin with "Aye,"); `bench/loop/style_judge.py` is a rule-based `cli:`
judge of that style that also wants answers on topic, so short garbage loses. Steps,
each a real `dlm` command on the embedded model in a fresh `DLM_HOME`:
1. `dlm train` (SFT only: the document has no preference pairs): v0001, the baseline;
2. `dlm loop --rounds 1`, then `dlm eval` of the current version against v0001 on the
   24 held-out questions of `bench/loop/heldout.jsonl` (none of them in the document),
   scored by the style judge, with reference answers in the house style;
3. `dlm loop` for the remaining rounds, and the same eval;
4. one more round mined by a harmful judge (the style judge with `--prefer-worse`: it
   picks the worse answers), under the same default gate: it must be rejected.
Prints, for each point, the held-out judge score of both sides, the win rate against
SFT alone with its 95% bootstrap interval, reference F1, the harmful round's verdict,
and the wall time of each step.

The document trains SFT for 10 steps: enough to learn its facts but not yet its style on
every question (after 30 steps SFT alone already answers in the style, and the rounds
have little left to teach; docs/self-improving-loop.md gives both figures).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "bench" / "loop"
JUDGE = "cli:" + shlex.join([sys.executable, str(FILES / "style_judge.py")])
HARMFUL = "cli:" + shlex.join([sys.executable, str(FILES / "style_judge.py"), "--prefer-worse"])


def main() -> None:
    """Train, loop, evaluate; print the comparison and the times."""
    options = _options()
    work = Path(options.keep or tempfile.mkdtemp(prefix="dlm-bench-loop-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DLM_HOME": str(work / "home")}
    converted = Path(os.environ.get("DLM_HOME", Path.home() / ".dlm")) / "models"
    if converted.is_dir() and not (work / "home" / "models").exists():
        (work / "home").mkdir(parents=True, exist_ok=True)
        (work / "home" / "models").symlink_to(converted)  # reuse the one-time conversion
    document = work / "harbour.dlm"
    document.write_text((FILES / "harbour.dlm").read_text(encoding="utf-8"), encoding="utf-8")
    device = ["--device", options.device] if options.device else []
    times: dict[str, float] = {}
    started = time.perf_counter()
    times["sft"] = _dlm(env, "train", str(document), *device)[1]
    points: list[dict[str, Any]] = []
    done = 0
    for target in sorted({1, options.rounds}):
        rounds, seconds = _dlm(env, *_loop_args(document, target - done, options), *device)
        times[f"loop to round {target}"] = seconds
        done = target
        report, seconds = _dlm(env, *_eval_args(document), *device)
        times[f"eval after round {target}"] = seconds
        points.append({"rounds": target, "loop": rounds, "eval": report})
    harmful, seconds = _dlm(env, *_loop_args(document, 1, options, judge=HARMFUL), *device)
    times["harmful round"] = seconds
    total = time.perf_counter() - started
    _print(points, times, total)
    [verdict] = harmful["rounds"]
    print(f"harmful judge's round: {verdict['decision']}: {'; '.join(verdict['reasons'])}")
    if options.json:
        figures = {"points": points, "harmful": harmful, "times": times, "total_s": total}
        print(json.dumps(figures, indent=2))
    print(f"work directory: {work}")


def _loop_args(
    document: Path, rounds: int, options: argparse.Namespace, judge: str = JUDGE
) -> list[str]:
    return [
        "loop", str(document), "--rounds", str(rounds), "--judge", judge,
        "--samples", str(options.samples), "--temp", "1.0", "--max-new-tokens", "40", "--json",
    ]  # fmt: skip


def _eval_args(document: Path) -> list[str]:
    return [
        "eval", str(document), "--prompts", str(FILES / "heldout.jsonl"), "--no-heldout",
        "--judge", JUDGE, "--against", "v0001", "--max-new-tokens", "40", "--json",
    ]  # fmt: skip


def _dlm(env: dict[str, str], *args: str) -> tuple[Any, float]:
    """Run `dlm args...`; its JSON output (or None) and the wall time."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "dlm", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"`dlm {shlex.join(args)}` failed ({result.returncode}):\n{result.stderr}")
    text = result.stdout.strip()
    return (json.loads(text) if text.startswith("{") else None), seconds


def _print(points: list[dict[str, Any]], times: dict[str, float], total: float) -> None:
    print("held-out (24 questions not in the document), style judge, against SFT alone (v0001)")
    for point in points:
        report = point["eval"]
        ours, sft = report["means"]
        comparison = report["comparison"]
        decisions = [r["decision"] for r in point["loop"]["rounds"]]
        print(
            f"after {point['rounds']} round(s) ({', '.join(decisions)}): current "
            f"{ours['version']}: judge {ours['judge']:.3f} vs {sft['judge']:.3f}, win rate "
            f"{comparison['win_rate']:.2f} [{comparison['low']:.2f}, {comparison['high']:.2f}], "
            f"reference F1 {ours['reference_f1']:.3f} vs {sft['reference_f1']:.3f}, "
            f"words {ours['words']:.1f} vs {sft['words']:.1f}"
        )
    for step, seconds in times.items():
        print(f"  {step}: {seconds:.0f} s")
    print(f"  total: {total:.0f} s")


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--device")
    parser.add_argument("--keep", help="Work in this directory and keep it.")
    parser.add_argument("--json", action="store_true", help="Also print every figure as JSON.")
    return parser.parse_args()


if __name__ == "__main__":
    main()
