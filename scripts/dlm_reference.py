"""Run DocumentLanguageModel 0.10.0, the reference implementation, in its own venv.

Its import package is also called `dlm`, so it never shares an interpreter with
ours: this script builds a throwaway venv once and talks to a worker in it
through a subprocess (JSON on stdin/stdout).

    python scripts/dlm_reference.py ids tests/fixtures -o tests/fixtures/dlm_reference_ids.json
    python scripts/dlm_reference.py time bench.dlm --repeat 20

Stdlib only, so it runs before our own environment exists.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.10.0"
PACKAGES = [
    f"document-language-model=={VERSION}",
    "pyyaml",
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-extensions",
    "typing-inspection",
    "python-ulid",
]

_WORKER = r"""
import json, sys, time
from pathlib import Path
from dlm.doc.parser import parse_text
from dlm.io.text import read_text

request = json.load(sys.stdin)
if request["mode"] == "ids":
    out = {}
    for path in request["paths"]:
        try:
            parsed = parse_text(read_text(Path(path)))
            out[path] = {"ok": True, "sections": [
                {"type": s.type.value, "section_id": s.section_id, "adapter": s.adapter,
                 "auto_mined": bool(s.auto_mined)} for s in parsed.sections]}
        except Exception as error:
            out[path] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    json.dump(out, sys.stdout)
else:
    # parse_text reads sections but not their bodies; its body parsers (as its
    # sections_to_rows calls them) read the Q/A pairs and preference triples.
    from dlm.data.instruction_parser import parse_instruction_body
    from dlm.data.preference_parser import parse_preference_body
    from dlm.data.sections_to_rows import _normalize_probe_markers
    from dlm.doc.sections import SectionType

    def parse_with_bodies(text):
        parsed = parse_text(text)
        for section in parsed.sections:
            if section.type is SectionType.INSTRUCTION:
                body = _normalize_probe_markers(section.content)
                parse_instruction_body(body, section_id=section.section_id)
            elif section.type is SectionType.PREFERENCE:
                parse_preference_body(section.content, section_id=section.section_id)
        return parsed

    text = read_text(Path(request["path"]))
    out = {"repeat": request["repeat"], "bytes": Path(request["path"]).stat().st_size}
    for name, run in (("parse_text", parse_text), ("with_bodies", parse_with_bodies)):
        for _ in range(2):
            run(text)
        times = []
        for _ in range(request["repeat"]):
            start = time.perf_counter()
            run(text)
            times.append(time.perf_counter() - start)
        out[name] = {"median_s": sorted(times)[len(times) // 2], "min_s": min(times),
                     "max_s": max(times), "times_s": times}
    out.update(out["with_bodies"])
    json.dump(out, sys.stdout)
"""


def venv_dir() -> Path:
    """Where the reference venv lives ($DLM_REFERENCE_VENV or the user cache)."""
    default = Path.home() / ".cache" / "dlm-reference" / f"venv-{VERSION}"
    return Path(os.environ.get("DLM_REFERENCE_VENV", default))


def ensure_venv() -> Path:
    """The reference venv's python, building the venv on first use."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    marker = venv / ".complete"
    if marker.exists():
        return python
    print(f"building the reference venv in {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", *PACKAGES]
    result = subprocess.run(install, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"could not install DocumentLanguageModel {VERSION}: {result.stderr}")
    check = [str(python), "-c", "import dlm.doc.parser"]
    subprocess.run(check, check=True, cwd=tempfile.gettempdir())
    marker.write_text("ok\n", encoding="utf-8")
    return python


def _run_worker(request: dict[str, Any]) -> Any:
    python = ensure_venv()
    # Run from a neutral directory so our own `dlm` package is not on the path.
    result = subprocess.run(
        [str(python), "-c", _WORKER],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"reference worker failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def reference_ids(paths: list[Path]) -> dict[str, Any]:
    """The reference's verdict and sections for each file, keyed by repo-relative path."""
    absolute = [str(p.resolve()) for p in paths]
    found = _run_worker({"mode": "ids", "paths": absolute})
    return {_relative(Path(p)): found[p] for p in absolute}


def time_reference_parse(path: Path, repeat: int = 20) -> dict[str, Any]:
    """Median/min/max seconds of the reference reading one file: `parse_text` plus its
    instruction and preference body parsers on every section (the same work as our
    parse; top level and "with_bodies"), and `parse_text` alone ("parse_text")."""
    result: dict[str, Any] = _run_worker(
        {"mode": "time", "path": str(Path(path).resolve()), "repeat": repeat}
    )
    return result


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def main() -> None:
    """Command line: `ids DIR... -o OUT` or `time FILE [--repeat N]`."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ids = commands.add_parser("ids", help="section ids of every .dlm file under the dirs")
    ids.add_argument("dirs", nargs="+", type=Path)
    ids.add_argument("-o", "--output", type=Path, required=True)
    timing = commands.add_parser("time", help="time the reference parser on one file")
    timing.add_argument("file", type=Path)
    timing.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    if options.command == "ids":
        files = sorted(p for d in options.dirs for p in Path(d).rglob("*.dlm"))
        started = time.perf_counter()
        table = {
            "generator": f"DocumentLanguageModel {VERSION} via scripts/dlm_reference.py",
            "files": reference_ids(files),
        }
        text = json.dumps(table, indent=2, sort_keys=True) + "\n"
        options.output.write_text(text, encoding="utf-8")
        print(f"{len(files)} files in {time.perf_counter() - started:.1f} s -> {options.output}")
    else:
        print(json.dumps(time_reference_parse(options.file, options.repeat)))


if __name__ == "__main__":
    main()
