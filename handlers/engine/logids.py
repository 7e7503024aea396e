"""Platform ids as logs carry them: a short digest, the same for the same id.

A WhatsApp message id (wamid) is base64 that contains the sender's phone number, and a
WhatsApp user id is the number itself; logs never carry phone numbers, so they carry this."""

import hashlib


def log_id(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=5).hexdigest()
