"""What can go wrong when a message is sent, in words every channel's transport raises."""


class DeliveryError(Exception):
    """A message was not delivered; the subclass says what to do about it."""


class Blocked(DeliveryError):
    """The person blocked the bot (or left the platform): never retry, stop writing to them."""


class RateLimited(DeliveryError):
    """The platform asks us to wait before sending again."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited: retry after {retry_after:g} s")
        self.retry_after = retry_after


class Transient(DeliveryError):
    """A server error or a time-out: worth trying again after a pause."""


class Rejected(DeliveryError):
    """The platform refused this message for good (a bad request): retrying will not help."""
