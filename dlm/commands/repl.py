"""`dlm repl`: a conversation with the document's adapter, line by line, with slash commands."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlm.documents import LoadedDocument, load_valid_document
from dlm.models import base_model_dir
from dlm.placement import DeviceOption
from dlm.render import printable
from dlm.verbosity import note
from dlm.writer import Change, write_edits
from dlmlang.errors import DlmError

if TYPE_CHECKING:
    from trainer.generation.chat import Chat, ChatModel
    from trainer.store import Store

PROMPT = "> "
HELP = """Commands:
  /reset        forget the conversation (the system prompt stays)
  /temp X       sample at temperature X from now on; 0 is greedy
  /version      the adapter version answering; /version N (or vNNNN, base) switches to it
  /save         append the last question and answer to the document as an ::instruction::
  /help         this list
  /quit         leave (Ctrl-D and Ctrl-C at the prompt too)
A line starting with // is sent with one slash removed."""


def repl(
    path: Annotated[Path, typer.Argument(help="The .dlm document whose adapter answers.")],
    adapter_version: Annotated[
        str | None,
        typer.Option(help="vNNNN, or `base` for the base model alone (default: current)."),
    ] = None,
    temp: Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.", min=0)] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.", min=0, max=1)] = 0.95,
    max_new_tokens: Annotated[int, typer.Option(help="Longest answer, in tokens.", min=1)] = 256,
    seed: Annotated[int, typer.Option(help="Sampling seed (turn N samples with seed+N).")] = 0,
    device: DeviceOption = None,
) -> None:
    """Chat with the document's current adapter; the model is loaded once.

    Each question is answered with the conversation so far, as chat messages after the
    document's system prompt. /save appends the last exchange to the document as an
    ::instruction:: section; /help lists the commands; Ctrl-D or /quit leaves.

    Example: dlm repl notes.dlm --temp 0.7
    """
    loaded = load_valid_document(path)
    from trainer.runtime.environment import set_offline

    set_offline()
    from trainer.generation.chat import ChatModel, open_chat, pick_version
    from trainer.generation.generate import Sampling
    from trainer.runtime.devices import choose_placement
    from trainer.store import Store, dlm_home

    store = Store.open(loaded.frontmatter.dlm_id, dlm_home())
    version = pick_version(store, adapter_version, str(path))
    source = ChatModel(
        base_model_dir(loaded.frontmatter.base_model),
        choose_placement(device, loaded.frontmatter.training.precision),
    )
    note(f"Loading {version} of {path}...")
    chat = open_chat(
        source,
        store,
        version,
        system_prompt=loaded.frontmatter.system_prompt,
        sampling=Sampling(max_new_tokens, temp, top_p, seed),
    )
    note(f"Chatting with {version}. /help lists the commands; Ctrl-D leaves.")
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
    _loop(chat, path, store, source)


def _loop(chat: Chat, path: Path, store: Store, source: ChatModel) -> None:
    """Read lines until /quit, Ctrl-D or Ctrl-C at the prompt."""
    while True:
        try:
            line = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        try:
            if not _handle(line.strip(), chat, path, store, source):
                return
        except KeyboardInterrupt:
            typer.echo("(interrupted)", err=True)
        except DlmError as error:
            typer.echo(f"dlm: {printable(str(error))}", err=True)


def _handle(line: str, chat: Chat, path: Path, store: Store, source: ChatModel) -> bool:
    """Answer a question, or run a slash command; False when the user leaves."""
    if line.startswith("/") and not line.startswith("//"):
        name, _, argument = line.partition(" ")
        return _command(name, argument.strip(), chat, path, store, source)
    if line:
        typer.echo(chat.ask(line.removeprefix("/")))
    return True


def _command(
    name: str, argument: str, chat: Chat, path: Path, store: Store, source: ChatModel
) -> bool:
    """Run one slash command; False for /quit."""
    from dlmlang.errors import UsageError

    if name in ("/quit", "/exit"):
        return False
    if name == "/help":
        typer.echo(HELP)
    elif name == "/reset":
        chat.reset()
        typer.echo("History cleared.")
    elif name == "/temp":
        if argument:
            chat.set_temperature(_number(argument))
        typer.echo(f"Temperature {chat.sampling.temperature:g}.")
    elif name == "/version":
        if argument:
            _switch(chat, argument, path, store, source)
        typer.echo(f"Adapter version {chat.version}; the store has {_versions(store)}.")
    elif name == "/save":
        _save(chat, path)
    else:
        raise UsageError(f"Unknown command {name}; /help lists the commands.")
    return True


def _number(text: str) -> float:
    from dlmlang.errors import UsageError

    try:
        return float(text)
    except ValueError:
        raise UsageError(f"/temp takes a number (0 is greedy), not {text!r}.") from None


def _switch(chat: Chat, requested: str, path: Path, store: Store, source: ChatModel) -> None:
    """Answer with another adapter version from now on (loaded before the old one goes)."""
    from trainer.generation.chat import load_version, pick_version

    version = pick_version(store, requested, str(path))
    if version != chat.version:
        note(f"Loading {version}...")
        chat.use_model(*load_version(source, store, version), version)


def _versions(store: Store) -> str:
    return ", ".join([*store.versions(), "base"])


def _save(chat: Chat, path: Path) -> None:
    """Append the last exchange to the document, through the checked atomic write."""
    from trainer.generation.chat import exchange_section, save_edits

    exchange = chat.last
    if exchange is None:
        typer.echo("Nothing to save yet: ask a question first.")
        return
    section_id = exchange_section(exchange).section_id

    def compute(version: LoadedDocument) -> Change[str]:
        return Change(save_edits(version.document, exchange), section_id)

    written = write_edits(load_valid_document(path), compute)
    if written.written:
        typer.echo(f"Saved as ::instruction:: section {section_id} at the end of {path}.")
    else:
        typer.echo(f"Already in {path} (section {section_id}).")
