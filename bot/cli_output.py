"""What every `minga` subcommand shares: --json output, and errors as one line (exit 2)."""

import json
import sys
from typing import Any

from handlers.catalog import plural_form


class UsageError(Exception):
    """A bad argument: shown as one line, exit status 2."""


def emit(args: Any, document: dict[str, Any] | list[dict[str, Any]], human: str) -> None:
    """One JSON document with --json, else the short human text."""
    if getattr(args, "json", False):
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(human)


def counted(count: int, one: str, other: str) -> str:
    """ "1 idea", "2 ideas": the CLI speaks English, with Babel's (CLDR) plural rule."""
    return f"{count} {one if plural_form('en', count) == 'one' else other}"
