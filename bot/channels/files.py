"""The files residents send: what they really are (by content, not by name), and their names
as they are kept under the media folder."""

# The first bytes of the image formats phones send, and the suffix a file of each is kept with.
IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)
# HEIF/HEIC (iPhones) and AVIF: an ISO box "ftyp" at offset 4, then the brand.
HEIF_BRANDS = frozenset((b"heic", b"heix", b"hevc", b"heif", b"mif1", b"msf1", b"avif"))

# What a failed or refused file is called for the engine (its "media.<name>" texts).
PHOTO_FAILED = "photo_failed"
PHOTO_TOO_BIG = "photo_too_big"
VOICE_FAILED = "voice_failed"
VOICE_TOO_BIG = "voice_too_big"
FILE_TOO_BIG = "file_too_big"
FILE_FAILED = "file_failed"
NOT_IMAGE = "not_image"


def image_suffix(content: bytes) -> str | None:
    """ ".jpg", ".png", ... when the bytes are an image; None for anything else."""
    for signature, suffix in IMAGE_SIGNATURES:
        if content.startswith(signature):
            return suffix
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return ".webp"
    if content[4:8] == b"ftyp" and content[8:12] in HEIF_BRANDS:
        return ".heic"
    return None


def audio_suffix(mime_type: str | None) -> str:
    """ "audio/mpeg" -> ".mpeg", "audio/ogg; codecs=opus" -> ".ogg"."""
    subtype = (mime_type or "").partition("/")[2].partition(";")[0].strip().lower()
    return f".{subtype}" if subtype.isalnum() else ".audio"
