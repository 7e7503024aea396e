"""What a received file is, by its first bytes."""

import pytest

from bot.channels.files import audio_suffix, image_suffix


@pytest.mark.parametrize(
    ("head", "suffix"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ".jpg"),
        (b"\x89PNG\r\n\x1a\n\x00", ".png"),
        (b"GIF89a\x01\x00", ".gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", ".webp"),
        (b"\x00\x00\x00\x18ftypheic\x00", ".heic"),
        (b"%PDF-1.7", None),
        (b"PK\x03\x04 a zip named foto.jpg", None),
        (b"<svg xmlns=", None),  # a picture, but a script can hide in it: not a photo
        (b"", None),
        (b"RIFF\x10\x00\x00\x00WAVE", None),
    ],
)
def test_an_image_is_known_by_its_bytes(head: bytes, suffix: str | None) -> None:
    assert image_suffix(head) == suffix


def test_audio_suffixes() -> None:
    assert audio_suffix("audio/ogg; codecs=opus") == ".ogg"
    assert audio_suffix("../../etc") == ".audio"
