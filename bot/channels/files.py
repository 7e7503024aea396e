"""Names for the files residents send, as they are kept under the media folder."""


def audio_suffix(mime_type: str | None) -> str:
    """ "audio/mpeg" -> ".mpeg", "audio/ogg; codecs=opus" -> ".ogg"."""
    subtype = (mime_type or "").partition("/")[2].partition(";")[0].strip().lower()
    return f".{subtype}" if subtype.isalnum() else ".audio"
