"""A lean driver for the LALR tables and contextual lexer that Lark builds from `dlm.lark`.

It runs exactly Lark's automaton (same tables, same per-state terminal regexes,
same rule callbacks with the inlined transformer), without the generality this
grammar does not use (ignored terminals, lexer callbacks, error recovery,
interactive parsing): about 25% less time than `Lark.parse` on a 1 MB body.
Anything unexpected falls back to Lark itself, and a property test checks the
two agree.
"""

from __future__ import annotations

import re
from typing import Any

from lark import Lark
from lark.parsers.lalr_analysis import Shift


class TableParser:
    """Parses with the tables of a contextual-lexer LALR `Lark` instance."""

    def __init__(self, lark: Lark) -> None:
        frontend: Any = lark.parser
        lalr: Any = frontend.parser.parser
        table = lalr.parse_table
        self._lark = lark
        callbacks = lalr.callbacks
        # Per state: symbol -> (state to shift or go to, None) or (0, reduction).
        self._table: dict[int, dict[str, tuple[int, Any]]] = {
            state: {
                symbol: (argument, None)
                if action is Shift
                else (0, (len(argument.expansion), argument.origin.name, callbacks[argument]))
                for symbol, (action, argument) in actions.items()
            }
            for state, actions in table.states.items()
        }
        self._start_states: dict[str, int] = table.start_states
        self._end_states: dict[str, int] = table.end_states
        lexers = frontend.lexer.lexers
        self._scanners: dict[int, list[re.Pattern[str]]] = {
            state: [mre for mre in lexer.scanner._mres] for state, lexer in lexers.items()
        }
        if lark.lexer_conf.ignore or any(lexer.callback for lexer in lexers.values()):
            raise ValueError("this driver supports grammars without %ignore or lexer callbacks")

    def parse(self, text: str, start: str) -> Any:
        """Parse `text` from `start`; the rule callbacks' value of the start rule."""
        try:
            return self._parse(text, start)
        except _UnexpectedInputError:
            return self._lark.parse(text, start=start)  # raises Lark's own, precise error

    def _parse(self, text: str, start: str) -> Any:
        table, scanners = self._table, self._scanners
        state_stack = [self._start_states[start]]
        value_stack: list[Any] = []
        push_state, push_value = state_stack.append, value_stack.append
        end_state = self._end_states[start]
        new_token = LineToken
        position, line, line_start, length = 0, 1, 0, len(text)
        while True:
            if position < length:
                for pattern in scanners[state_stack[-1]]:
                    match = pattern.match(text, position)
                    if match is not None:
                        break
                else:
                    raise _UnexpectedInputError
                value = match.group(0)
                kind = match.lastgroup or ""
                newlines = value.count("\n")
                end = position + len(value)
                end_line = line + newlines
                end_line_start = position + value.rindex("\n") + 1 if newlines else line_start
                column, end_column = position - line_start + 1, end - end_line_start + 1
                token = new_token(kind, value, position, line, column, end_line, end_column, end)
                position, line, line_start = end, end_line, end_line_start
            else:
                kind = "$END"
                token = new_token(kind, "", position, line, position - line_start + 1)
            # Reduce as long as the table says so, then shift (or accept at $END).
            while True:
                step = table[state_stack[-1]].get(kind)
                if step is None:
                    raise _UnexpectedInputError
                target, reduction = step
                if reduction is None:
                    push_state(target)
                    push_value(token)
                    break
                size, origin, callback = reduction
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                push_value(callback(children))
                push_state(table[state_stack[-1]][origin][0])
                if kind == "$END" and state_stack[-1] == end_state:
                    return value_stack[-1]


class LineToken:
    """A token as the rule callbacks see it: Lark's Token fields, without the str.

    Lark's Token is a str subclass with a dict; this one is slotted and built
    several times faster. The transformer reads only these fields.
    """

    __slots__ = (
        "column",
        "end_column",
        "end_line",
        "end_pos",
        "line",
        "start_pos",
        "type",
        "value",
    )

    def __init__(
        self,
        type: str,
        value: str,
        start_pos: int,
        line: int,
        column: int,
        end_line: int | None = None,
        end_column: int | None = None,
        end_pos: int | None = None,
    ) -> None:
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.end_pos = end_pos

    def __repr__(self) -> str:
        return f"LineToken({self.type!r}, {self.value!r})"


class _UnexpectedInputError(Exception):
    """The input left the grammar; Lark re-parses it to report where and why."""
