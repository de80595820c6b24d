"""Training progress, fed by the trainer's events: a rich bar, or JSON lines for programs."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from dlm.jsonout import to_json
from dlm.verbosity import is_quiet
from trainer.events import StepEvent


class RichEvents:
    """Messages on stderr and a bar with step, loss, tokens/s and ETA."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True, quiet=is_quiet())
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[speed]} tok/s"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichEvents:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def message(self, text: str) -> None:
        """Print a line above the bar."""
        self._progress.console.print(text)

    def start(self, total_steps: int) -> None:
        """Show the bar."""
        self._task = self._progress.add_task("training", total=total_steps, loss="-", speed="-")

    def step(self, event: StepEvent) -> None:
        """Advance the bar."""
        if self._task is None:
            self.start(event.total_steps)
        assert self._task is not None
        loss = f"{event.loss:.3f}" if event.loss is not None else "-"
        speed = f"{event.tokens_per_second:,.0f}" if event.tokens_per_second else "-"
        self._progress.update(self._task, completed=event.step, loss=loss, speed=speed)


class JsonlEvents:
    """One JSON object per line on stderr (`dlm train --progress jsonl`), in the shape
    of `dlm preference mine --progress jsonl`: event, stage, done, total, message."""

    def __enter__(self) -> JsonlEvents:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def message(self, text: str) -> None:
        """A line saying what happens now (loading, saving, ...)."""
        self._emit("message", 0, 0, text)

    def start(self, total_steps: int) -> None:
        """Training begins."""
        self._emit("start", 0, total_steps, "")

    def step(self, event: StepEvent) -> None:
        """One optimizer step, with its loss."""
        loss = f"loss {event.loss:.3f}" if event.loss is not None else ""
        self._emit("progress", event.step, event.total_steps, loss)

    def _emit(self, event: str, done: int, total: int, message: str) -> None:
        progress_line(event, "train", done, total, message)


def progress_line(
    event: str, stage: str, done: int, total: int, message: str, **extra: object
) -> None:
    """One `--progress jsonl` object on stderr (docs/json.md): event, stage, done, total,
    message, and any `extra` fields."""
    line = {"event": event, "stage": stage, "done": done, "total": total, "message": message}
    sys.stderr.write(to_json({**line, **extra}, indent=None) + "\n")
    sys.stderr.flush()


def watch_event(event: str, message: str, version: str | None = None) -> None:
    """One `dlm train --watch --progress jsonl` line on stderr, stage "watch": waiting,
    changed, unchanged, invalid, training, trained (with the adapter version), failed,
    stopped."""
    extra = {"version": version} if version is not None else {}
    progress_line(event, "watch", 0, 0, message, **extra)
