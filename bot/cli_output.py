"""What every `minga` subcommand shares: --json output, and errors as one line (exit 2)."""

import json
import sys
from typing import Any


class UsageError(Exception):
    """A bad argument: shown as one line, exit status 2."""

    status = 2


class NotDone(UsageError):
    """What was asked is recorded but could not be finished now (e.g. nothing is running to
    send it): one line, exit status 1."""

    status = 1


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """'1 idea', '2 ideas', '0 ideas': a count that reads right."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def emit(args: Any, document: dict[str, Any] | list[dict[str, Any]], human: str) -> None:
    """One JSON document with --json, else the short human text."""
    if getattr(args, "json", False):
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(human)
