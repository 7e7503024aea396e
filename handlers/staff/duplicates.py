"""The digest's "possible duplicates": ideas filed as "mine is different" that still look alike
(the intake notes them, storage/similar.py). Each open pair is listed with two buttons: join
the newer to the older through triage's own merge (its author and followers are told, as with
"Same as another"), or dismiss the pair. Either closes it; a pair merged another way (from an
idea's record) no longer shows. Staff only: staff/buttons.py checks the caller first."""

from babel.numbers import format_decimal

from handlers.engine.buttons import args_of, button_id
from handlers.engine.messages import Choice, Reply
from handlers.engine.textinput import short
from handlers.engine.turn import Turn
from handlers.events.cards import Voice
from handlers.staff.ideas_view import STAFF
from handlers.staff.triage import TriageProblem, mark_duplicate
from storage.repositories import Repositories
from storage.similar import PossibleDuplicate

# The letters after "st:" (staff/buttons.py answers them); both carry the pair's two idea ids,
# as stored (the idea filed as "different", then the earlier one it was offered).
MERGE = "pm"  # "st:pm:<idea>:<other>": the newer of the two joins the older
DISMISS = "pn"  # "st:pn:<idea>:<other>": not the same
LISTED = 5  # pairs listed (two buttons each); the rest wait for the next digests
WORDS = 50  # characters of each problem shown


def _score(voice: Voice, score: float) -> str:
    return format_decimal(score, "0.00", locale=voice.language)


def _line(voice: Voice, pair: PossibleDuplicate) -> str:
    newer, older = pair.newer_and_older
    return voice.t("digest.duplicates_line", newer=newer.reference, older=older.reference,
                   newer_problem=short(newer.problem, WORDS),
                   older_problem=short(older.problem, WORDS),
                   score=_score(voice, pair.score))  # fmt: skip


def _buttons(voice: Voice, pair: PossibleDuplicate) -> tuple[Choice, Choice]:
    newer, older = pair.newer_and_older
    ids = (pair.idea.idea_id, pair.other.idea_id)
    names = {"newer": newer.reference, "older": older.reference}
    return (Choice(button_id(STAFF, MERGE, *ids), voice.t("digest.duplicates_merge", **names)),
            Choice(button_id(STAFF, DISMISS, *ids),
                   voice.t("digest.duplicates_dismiss", **names)))  # fmt: skip


async def section(repos: Repositories, voice: Voice) -> Reply | None:
    """The open pairs as one message of the digest, each with its two buttons (None: none)."""
    pairs = await repos.similar.open_duplicates(LISTED)
    if not pairs:
        return None
    count = await repos.similar.count_open_duplicates()
    lines = [voice.t("digest.duplicates_title", count=count), voice.t("digest.duplicates_help")]
    lines += [_line(voice, pair) for pair in pairs]
    if count > len(pairs):
        lines.append(voice.t("digest.duplicates_more", count=count - len(pairs)))
    return Reply("\n".join(lines), tuple(c for pair in pairs for c in _buttons(voice, pair)))


async def _open_pair(turn: Turn, rest: str) -> PossibleDuplicate | None:
    """The pair a button names, if it is still open (else staff hear it was handled)."""
    ids = args_of(rest)
    if len(ids) != 2 or not all(part.isdigit() for part in ids):
        turn.say(turn.t("input.stale_button"))
        return None
    pair = await turn.repos.similar.open_duplicate(int(ids[0]), int(ids[1]))
    if pair is None:  # resolved, merged another way, or one of them withdrawn
        turn.say(turn.t("digest.duplicates_closed"))
    return pair


async def merge(turn: Turn, rest: str) -> None:
    """The newer joins the older, exactly as "Same as another" on its record does."""
    pair = await _open_pair(turn, rest)
    if pair is None:
        return
    newer, older = pair.newer_and_older
    idea = await turn.repos.idea_search.get(newer.idea_id)
    assert idea is not None  # the pair is open: both ideas are there
    try:
        outcome = await mark_duplicate(turn.repos, idea, older.reference, actor=turn.actor,
                                       now=turn.now)  # fmt: skip
    except TriageProblem as problem:
        turn.say(turn.t(f"triage_error.{problem.key}", **problem.values))
        return
    await turn.repos.similar.resolve_duplicate(pair.idea.idea_id, pair.other.idea_id, turn.now)
    original = outcome.idea.duplicate_of_reference or older.reference
    turn.say(turn.t("triage.duplicate_done", reference=newer.reference, original=original,
                    told=outcome.told))  # fmt: skip


async def dismiss(turn: Turn, rest: str) -> None:
    """Not the same: the pair is closed and never listed again."""
    pair = await _open_pair(turn, rest)
    if pair is None:
        return
    await turn.repos.similar.resolve_duplicate(pair.idea.idea_id, pair.other.idea_id, turn.now)
    newer, older = pair.newer_and_older
    turn.say(turn.t("digest.duplicates_dismissed", newer=newer.reference, older=older.reference))


BUTTONS = {MERGE: merge, DISMISS: dismiss}
