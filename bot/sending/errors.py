"""What can go wrong when a message is sent, in words every channel's transport raises."""


class DeliveryError(Exception):
    """A message was not delivered; the subclass says what to do about it."""


class Blocked(DeliveryError):
    """The person blocked the bot (or left the platform): never retry, stop writing to them."""


class RateLimited(DeliveryError):
    """The platform asks us to wait before sending again: bulk waits, and with `everyone`
    replies too (WhatsApp's throughput error counts every message)."""

    def __init__(self, retry_after: float, detail: str = "", *, everyone: bool = False) -> None:
        super().__init__(detail or f"rate limited: retry after {retry_after:g} s")
        self.retry_after = retry_after
        self.everyone = everyone


class Transient(DeliveryError):
    """A server error or a time-out: worth trying again after a pause."""


class Rejected(DeliveryError):
    """The platform refused this message for good (a bad request): retrying will not help."""


class ChatRateLimited(DeliveryError):
    """Too many messages to this one person: wait before the next one to them only."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"too many messages to this person: wait {retry_after:g} s")
        self.retry_after = retry_after


class Skipped(DeliveryError):
    """Not sent, on purpose: the platform would not allow it now (the reason is recorded)."""


class TryLater(DeliveryError):
    """Not sent; the next attempt will go another way (e.g. as a template): queue it again."""


class Halted(DeliveryError):
    """The platform stopped the account (restricted, or the token expired): no bulk sending
    until `seconds` have passed, and the staff must hear of it."""

    def __init__(self, detail: str, seconds: float) -> None:
        super().__init__(detail)
        self.seconds = seconds
