"""The command written beside a table: the script, its positional arguments and every option whose value is not
the parser's default, so running it re-makes the table (and no option given is left out of it)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence


def command_line(script: str, parser: argparse.ArgumentParser, args: argparse.Namespace,
                 always: Sequence[str] = (), leave_out: Sequence[str] = ()) -> str:
    """`python <script>`, its positional arguments and its options: those given a non-default value, those in
    `always` (by dest) even at their default, none in `leave_out` (options that do not change the table, such
    as --score-test)."""
    words = ["python", script]
    actions = parser._actions  # argparse lists its arguments nowhere public
    for action in (a for a in actions if not a.option_strings):
        value = getattr(args, action.dest)
        words += map(_quoted, value) if isinstance(value, list | tuple) else [_quoted(value)]
    for action in actions:
        if not action.option_strings or action.dest in leave_out or isinstance(action, argparse._HelpAction):
            continue
        value = getattr(args, action.dest)
        if (value == action.default and action.dest not in always) or value is None:
            continue
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            words.append(flag)
        elif isinstance(action, argparse._AppendAction):
            words += [f"{flag} {_quoted(item)}" for item in value]
        elif isinstance(value, list | tuple):
            words.append(" ".join([flag, *map(_quoted, value)]))
        else:
            words.append(f"{flag} {_quoted(value)}")
    return " ".join(words)


def _quoted(value: object) -> str:
    """A value as the shell needs it, in double quotes where it has spaces (as the tables always wrote)."""
    text = str(value)
    return f'"{text}"' if text != shlex.quote(text) and '"' not in text else text
