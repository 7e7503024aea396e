"""What every `minga` subcommand shares: --json output, and errors as one line (exit 2)."""

import json
import sys
from datetime import datetime
from typing import Any

from bot.config import Settings
from handlers.engine.catalog import plural_form
from handlers.engine.dates import DateProblem, example_text, full_when


class UsageError(Exception):
    """A bad argument: shown as one line, exit status 2."""

    status = 2


class NotDone(UsageError):
    """What was asked is recorded but could not be finished now (e.g. nothing is running to
    send it): one line, exit status 1."""

    status = 1


def emit(args: Any, document: dict[str, Any] | list[dict[str, Any]], human: str) -> None:
    """One JSON document with --json, else the short human text."""
    if getattr(args, "json", False):
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(human)


def date_problem_line(
    option: str, text: str, problem: DateProblem, settings: Settings, now: datetime
) -> str:
    """What was wrong with a date option, with an example that is still to come."""
    zone = settings.lab.zone
    example = example_text(now, zone, "en")
    if problem.key == "past" and problem.moment is not None:
        read = full_when(problem.moment, zone, "en")
        return f"{option} {text!r} has already passed ({read}); give a future date, e.g. {example}"
    if problem.key == "no_time":
        return f"{option} {text!r} has no time of day; e.g. {example}"
    return (f"{option} {text!r}: not a date; use YYYY-MM-DD HH:MM in the lab's time zone "
            f"({settings.lab.timezone}), e.g. {example}")  # fmt: skip


def counted(count: int, one: str, other: str | None = None) -> str:
    """ "1 idea", "2 ideas": the CLI speaks English, with Babel's (CLDR) plural rule (the
    plural is the noun with an "s" unless given)."""
    return f"{count} {one if plural_form('en', count) == 'one' else other or one + 's'}"
