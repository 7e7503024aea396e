"""What to do about a WhatsApp error, by its code (never by the HTTP status): the same table
serves an error the Graph API answers at once and a "failed" status reported later."""

from enum import Enum


class Reaction(Enum):
    TEMPLATE = "template"  # the 24-hour window is closed: send it again as a template
    GIVE_UP = "give_up"  # undeliverable: never retry
    BACK_OFF_ALL = "back_off_all"  # the number's throughput: pause every send
    SPACE_RESIDENT = "space_resident"  # too many to this person: space their messages
    RETRY = "retry"  # a passing fault: retry with backoff
    HALT = "halt"  # restricted account or expired token: stop bulk, alert the staff
    REFUSED = "refused"  # anything else: this message is wrong, retrying will not help


WINDOW_CLOSED = 131047  # re-engagement: more than 24 h since the resident wrote
UNDELIVERABLE = 131026
THROUGHPUT = 130429
PAIR_RATE = 131056
TEMPORARY = frozenset((131000, 131016, 2, 1, 133004))  # unknown, service unavailable, ...
RESTRICTED = 368
TOKEN_EXPIRED = 190
# Graph API call-rate limits (application, account): a pause, like throughput.
CALL_LIMITS = frozenset((4, 80007, 130472))

REACTIONS: dict[int, Reaction] = {
    WINDOW_CLOSED: Reaction.TEMPLATE,
    UNDELIVERABLE: Reaction.GIVE_UP,
    THROUGHPUT: Reaction.BACK_OFF_ALL,
    PAIR_RATE: Reaction.SPACE_RESIDENT,
    RESTRICTED: Reaction.HALT,
    TOKEN_EXPIRED: Reaction.HALT,
    **dict.fromkeys(TEMPORARY, Reaction.RETRY),
    **dict.fromkeys(CALL_LIMITS, Reaction.BACK_OFF_ALL),
}


def reaction(code: int | None) -> Reaction:
    return REACTIONS.get(code, Reaction.REFUSED) if code is not None else Reaction.REFUSED
