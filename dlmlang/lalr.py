"""A lean driver for the LALR tables and contextual lexer that Lark builds from `dlm.lark`.

It runs exactly Lark's automaton (same tables, same per-state terminal regexes,
same rule callbacks shaping the same values), without the generality this grammar
does not use (ignored terminals, lexer callbacks, error recovery, interactive
parsing). The tables are plain data (`build_tables`), so they can be kept on disk
and loaded without Lark's grammar compiler (`dlmlang.grammar` does, for exactly the
grammar text they were built from). Each rule's reduction is specialised from its
shape as Lark would shape it (inlined `_rules`, `?rules` with one child, transformer
methods): a rule that only passes its one child up, or appends to a list, costs a
few list operations rather than a callback. Anything unexpected falls back to Lark
itself, and a property test checks the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

TABLES_FORMAT = 1
"""Bumped whenever the shape of `build_tables`' output changes.

Lark's names are str subclasses (Token); the tables hold plain str, for marshal."""

Tables = dict[str, Any]
"""The plain-data parse tables (marshal-able): see `build_tables`."""

# What a reduction does to the value stack (chosen per rule in `_reduction`).
_PASS = 0  # one child, passed up unchanged: only the state changes
_APPEND = 1  # [list, x] of an inlined rule: x appended to the list
_WRAP = 2  # [x] of an inlined rule: a new list [x]
_CALL = 3  # anything else: the children (flattened) to a function
_EXTEND = 4  # [list, list] of an inlined rule: the second spliced into the first
_CALL_ONE = 5  # _CALL of a rule with one symbol, its child as it is


def build_tables(lark: Any) -> Tables:
    """The tables of a contextual-lexer LALR `Lark` instance, as plain data.

    states: state -> {symbol: target state (>= 0, shift or goto) or ~rule index (reduce)};
    rules: (origin, size, alias, expand1, included (position, inlined) pairs);
    scanners: state -> [(regex, flags)] tried in order (named groups are terminals);
    terminals: name -> (regex, priority).
    """
    from lark.parsers.lalr_analysis import Shift

    frontend = lark.parser
    lalr = frontend.parser.parser
    table = lalr.parse_table
    lexers = frontend.lexer.lexers
    scanners = {  # built on first access, with each lexer's callbacks
        state: [(str(mre.pattern), int(mre.flags)) for mre in lexer.scanner._mres]
        for state, lexer in lexers.items()
    }
    if lark.lexer_conf.ignore or any(lexer.callback for lexer in lexers.values()):
        raise ValueError("this driver supports grammars without %ignore or lexer callbacks")
    rules = list(lalr.callbacks)
    index = {rule: number for number, rule in enumerate(rules)}
    states = {
        state: {
            str(symbol): argument if action is Shift else ~index[argument]
            for symbol, (action, argument) in actions.items()
        }
        for state, actions in table.states.items()
    }
    return {
        "format": TABLES_FORMAT,
        "states": states,
        "rules": [_rule_shape(rule) for rule in rules],
        "start_states": {str(name): state for name, state in table.start_states.items()},
        "end_states": {str(name): state for name, state in table.end_states.items()},
        "scanners": scanners,
        "terminals": {
            str(t.name): (str(t.pattern.to_regexp()), int(t.priority)) for t in lark.terminals
        },
    }


def _rule_shape(rule: Any) -> tuple[str, int, str | None, bool, list[tuple[int, bool]]]:
    """What Lark's parse-tree builder does with a rule's children (no placeholders)."""
    options = rule.options
    if options.template_source is not None:
        raise ValueError("this driver supports grammars without templates")
    included = [
        (position, not symbol.is_term and symbol.name.startswith("_"))
        for position, symbol in enumerate(rule.expansion)
        if options.keep_all_tokens or not (symbol.is_term and symbol.filter_out)
    ]
    expand1 = bool(options.expand1) and not rule.alias
    alias = None if rule.alias is None else str(rule.alias)
    return str(rule.origin.name), len(rule.expansion), alias, expand1, included


class TableParser:
    """Parses with `build_tables` tables, calling `transformer`'s rule methods."""

    def __init__(self, tables: Tables, transformer: object, fallback: Callable[[], Any]) -> None:
        """`fallback()` gives the `Lark` parser that reports input the tables reject."""
        if tables.get("format") != TABLES_FORMAT:
            raise ValueError("parse tables of another format")
        self._fallback = fallback
        states: dict[int, dict[str, int]] = tables["states"]
        self._states = states
        gotos: dict[str, dict[int, int]] = {}
        for state, actions in states.items():
            for symbol, target in actions.items():
                if target >= 0:  # a shift or a goto; only rules' gotos are looked up
                    gotos.setdefault(symbol, {})[state] = target
        self._rules = [
            _reduction(shape, gotos.get(shape[0], {}), transformer) for shape in tables["rules"]
        ]
        self._start_states: dict[str, int] = tables["start_states"]
        self._end_states: dict[str, int] = tables["end_states"]
        self._patterns: dict[int, list[tuple[str, int]]] = tables["scanners"]
        self._scanners: dict[int, tuple[Callable[..., re.Match[str] | None], ...]] = {}

    def parse(self, text: str, start: str) -> Any:
        """Parse `text` from `start`; the rule callbacks' value of the start rule."""
        try:
            return self._parse(text, start)
        except _UnexpectedInputError:
            # Lark raises its own, precise error.
            return self._fallback().parse(text, start=start)

    def _scanner(self, state: int) -> tuple[Callable[..., re.Match[str] | None], ...]:
        """The state's terminal regexes, compiled on first use (a small file uses few)."""
        found = tuple(re.compile(pattern, flags).match for pattern, flags in self._patterns[state])
        self._scanners[state] = found
        return found

    def _parse(self, text: str, start: str) -> Any:
        try:
            return self._run(text, start)
        except KeyError:  # no action for a terminal in a state: not in the language
            raise _UnexpectedInputError from None

    def _run(self, text: str, start: str) -> Any:
        states, rules, scanners = self._states, self._rules, self._scanners
        state = self._start_states[start]
        state_stack = [state]
        value_stack: list[Any] = []
        push_state, push_value = state_stack.append, value_stack.append
        pop_state, pop_value = state_stack.pop, value_stack.pop
        new, token_class = tuple.__new__, LineToken  # a LineToken without its __new__
        position, line, length = 0, 1, len(text)
        while position < length:
            try:
                matchers = scanners[state]
            except KeyError:
                matchers = self._scanner(state)
            for match_at in matchers:
                match = match_at(text, position)
                if match is not None:
                    break
            else:
                raise _UnexpectedInputError
            value = match[0]
            kind: str = match.lastgroup  # type: ignore[assignment]  # all are named groups
            token = new(token_class, (kind, value, position, line))
            position += len(value)
            line += value.count("\n")
            # Reduce as long as the table says so, then shift.
            step = states[state][kind]
            while step < 0:
                size, goto, how, call = rules[~step]
                # The kinds in the order of how often they come.
                if how == _CALL_ONE:
                    value_stack[-1] = call([value_stack[-1]])
                    state = goto[state_stack[-2]]
                    state_stack[-1] = state
                elif how == _WRAP:
                    value_stack[-1] = [value_stack[-1]]
                    state = goto[state_stack[-2]]
                    state_stack[-1] = state
                elif how == _APPEND:
                    item = pop_value()
                    value_stack[-1].append(item)
                    pop_state()
                    state = goto[state_stack[-2]]
                    state_stack[-1] = state
                elif how == _CALL:
                    if size:
                        children = value_stack[-size:]
                        del state_stack[-size:]
                        del value_stack[-size:]
                    else:
                        children = []
                    push_value(call(children))
                    state = goto[state_stack[-1]]
                    push_state(state)
                elif how == _EXTEND:
                    items = pop_value()
                    value_stack[-1].extend(items)
                    pop_state()
                    state = goto[state_stack[-2]]
                    state_stack[-1] = state
                else:  # _PASS
                    state = goto[state_stack[-2]]
                    state_stack[-1] = state
                step = states[state][kind]
            state = step
            push_state(state)
            push_value(token)
        # $END: reduce until the start rule is accepted.
        end_state = self._end_states[start]
        while True:
            step = states[state]["$END"]
            if step >= 0:
                raise _UnexpectedInputError
            size, goto, _how, call = rules[~step]
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            push_value(call(children))
            state = goto[state_stack[-1]]
            push_state(state)
            if state == end_state:
                return value_stack[-1]


_Reduction = tuple[int, dict[int, int], int, Callable[[list[Any]], Any]]


def _reduction(shape: list[Any], goto: dict[int, int], transformer: object) -> _Reduction:
    """How to reduce one rule: (size, goto table of its origin, kind, function)."""
    origin, size, alias, expand1, included = shape
    included = [tuple(pair) for pair in included]
    if origin.startswith("_"):
        if alias is not None or expand1:
            raise ValueError(f"rule {origin}: an inlined rule with an alias or `?`")
        if included == [(0, False)] and size == 1:
            return size, goto, _WRAP, _wrap
        if included == [(0, True)] and size == 1:
            return size, goto, _PASS, _flatten(included)
        if included == [(0, True), (1, False)] and size == 2:
            return size, goto, _APPEND, _flatten(included)
        if included == [(0, True), (1, True)] and size == 2:
            return size, goto, _EXTEND, _flatten(included)
        return size, goto, _CALL, _flatten(included)
    callback = getattr(transformer, alias or origin, None)
    if callback is None:
        callback = _tree(alias or origin)
    if expand1 and included == [(0, False)] and size == 1:
        return size, goto, _PASS, _first
    if included == [(i, False) for i in range(size)] and not expand1:
        return size, goto, _CALL_ONE if size == 1 else _CALL, callback  # children as they are
    flatten = _flatten(included)
    if not expand1:
        if included and not included[0][1]:
            # One list display, e.g. `[c[0], *c[1]]`: no loop over the shape per call.
            shown = ", ".join(f"*c[{i}]" if inlined else f"c[{i}]" for i, inlined in included)
            call: Callable[[list[Any]], Any] = eval(
                f"lambda c: callback([{shown}])", {"callback": callback}
            )
            return size, goto, _CALL, call
        return size, goto, _CALL, lambda children: callback(flatten(children))

    def expand_one(children: list[Any]) -> Any:
        children = flatten(children)
        return children[0] if len(children) == 1 else callback(children)

    return size, goto, _CALL, expand_one


def _wrap(children: list[Any]) -> list[Any]:
    return [children[0]]


def _first(children: list[Any]) -> Any:
    return children[0]


def _flatten(included: list[tuple[int, bool]]) -> Callable[[list[Any]], list[Any]]:
    """The children Lark keeps, with those of inlined rules (lists here) spliced in."""
    if not included:
        return lambda children: []
    (first, first_inlined), rest = included[0], included[1:]

    def flatten(children: list[Any]) -> list[Any]:
        # An inlined rule's list is used once: the first one is extended in place, as
        # Lark does, so a left-recursive list grows in linear time.
        kept: list[Any] = children[first] if first_inlined else [children[first]]
        for position, inlined in rest:
            if inlined:
                kept.extend(children[position])
            else:
                kept.append(children[position])
        return kept

    return flatten


def _tree(name: str) -> Callable[[list[Any]], Any]:
    """Lark's default for a rule without a transformer method: a Tree."""

    def tree(children: list[Any]) -> Any:
        from lark import Tree

        return Tree(name, children)

    return tree


class LineToken(NamedTuple):
    """A token as the rule callbacks see it: the Lark Token fields they read.

    Lark's Token is a str subclass with a dict; this one is a tuple, built by the
    driver without a call to its class. The transformer reads only these fields.
    """

    type: str
    value: str
    start_pos: int
    line: int


class _UnexpectedInputError(Exception):
    """The input left the grammar; Lark re-parses it to report where and why."""
