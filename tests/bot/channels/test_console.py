"""The console channel: numbers pick options, /location and /photo stand in for the platform."""

from pathlib import Path

from bot.channels.console import ConsoleChannel
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Choice, Picture, Reply
from handlers.flows import Dispatcher


def _console(dispatcher: Dispatcher, catalog: Catalog, tmp_path: Path, lines: list[str]):
    written: list[str] = []
    pending = iter(lines)

    async def read() -> str | None:
        return next(pending, None)

    console = ConsoleChannel(
        dispatcher, catalog, lab_name="Usme Innova", media_dir=tmp_path, language="en",
        read_line=read, write=written.append,
    )  # fmt: skip
    return console, written


async def test_numbers_map_to_the_options_shown(dispatcher, catalog, tmp_path: Path) -> None:
    console, written = _console(dispatcher, catalog, tmp_path, [])
    await console.show(
        [Reply("Pick", (Choice("role:resident", "A"), Choice("role:official", "B")))]
    )
    assert "  2. B" in written
    assert console.parse("2").choice == "role:official"
    assert console.parse("3").text == "3"
    assert console.parse("/Mis_Ideas@bot").command == "mis_ideas"


PNG = b"\x89PNG\r\n\x1a\n a picture"


async def test_location_and_photo_commands(dispatcher, catalog, tmp_path: Path) -> None:
    console, written = _console(dispatcher, catalog, tmp_path, [])
    assert console.parse("/location 4.5, -74.1").location.latitude == 4.5
    assert console.parse("/location somewhere") is None
    assert written[-1] == catalog.text("en", "console.bad_location_command")
    assert console.parse("/photo /no/such/file.jpg") is None
    picture = tmp_path / "p.jpg"  # a PNG whatever its name says
    picture.write_bytes(PNG)
    media = console.parse(f"/photo {picture}").media
    assert media.kind == "photo" and media.path.endswith(".png")
    assert (tmp_path / media.path).read_bytes() == PNG


def test_a_file_that_is_not_an_image_is_not_a_photo(dispatcher, catalog, tmp_path: Path) -> None:
    console, _ = _console(dispatcher, catalog, tmp_path, [])
    text = tmp_path / "foto.jpg"
    text.write_bytes(b"%PDF-1.7 not a photo")
    assert console.parse(f"/photo {text}").unsupported == "not_image"


async def test_a_session_greets_and_says_goodbye(dispatcher, catalog, tmp_path: Path) -> None:
    console, written = _console(dispatcher, catalog, tmp_path, ["1", "/quit", "never read"])
    await console.run()
    text = "\n".join(written)
    assert catalog.text("en", "greeting.hello", lab="Usme Innova") in text
    # Opening the chat asks for nothing: the menu, whose first option starts an idea.
    assert catalog.text("en", "greeting.menu") in text
    assert f"  1. {catalog.text('en', 'menu.new')}" in written
    assert catalog.text("en", "role.ask") in text
    assert written[-1] == catalog.text("en", "console.bye")


async def test_a_first_request_in_the_console_is_answered(
    dispatcher, catalog, tmp_path: Path
) -> None:
    """A new console person whose first line is /subscribe is asked, subscribed, and not
    taken into an idea."""
    console, written = _console(dispatcher, catalog, tmp_path, ["/subscribe", "1"])
    await console.run()
    text = "\n".join(written)
    assert catalog.text("en", "subscribe.done") in text
    assert catalog.text("en", "role.ask") not in text


async def test_commands_keep_their_argument_and_pictures_are_saved(
    dispatcher, catalog, tmp_path: Path
) -> None:
    console, written = _console(dispatcher, catalog, tmp_path, [])
    parsed = console.parse("/idea MNG-2026-000123")
    assert (parsed.command, parsed.argument) == ("idea", "MNG-2026-000123")
    assert console.parse("/ideas").argument is None
    chart = Picture("ideas.png", content=b"\x89PNG chart")
    await console.show([Reply("Resumen", picture=chart)])
    saved = tmp_path / "console" / "received" / "ideas.png"
    assert saved.read_bytes() == b"\x89PNG chart"
    assert catalog.text("en", "console.picture", path=str(saved)) in written


async def test_options_are_numbered_on_across_the_messages_of_one_answer(
    dispatcher, catalog, tmp_path: Path
) -> None:
    """Three event cards or a long list in several messages: each option has its own number."""
    console, written = _console(dispatcher, catalog, tmp_path, [])
    await console.show([Reply("Uno", (Choice("ev:1:yes", "Voy"), Choice("ev:1:no", "No"))),
                        Reply("Dos", (Choice("ev:2:show", "Taller", "sáb 16 ago"),))])  # fmt: skip
    assert "  3. Taller · sáb 16 ago" in written
    assert console.parse("1").choice == "ev:1:yes"
    assert console.parse("3").choice == "ev:2:show"


async def test_a_message_for_another_person_leaves_ones_own_options(
    dispatcher, catalog, tmp_path: Path
) -> None:
    """A notice sent to another console user (a resident told of a status change while staff
    triage) shows their buttons without numbers: the next number still picks one's own."""
    console, written = _console(dispatcher, catalog, tmp_path, [])
    await console.show([Reply("Triage", (Choice("staff:s:1:0", "A"), Choice("staff:n:1", "B")))])
    await console.send("ana", Reply("News", (Choice("updates:off", "Stop"),)), bulk=True)
    assert catalog.text("en", "console.for_other", user="ana") in written
    assert not any(line.startswith("  1. Stop") for line in written)
    assert console.parse("1").choice == "staff:s:1:0"
    assert console.parse("2").choice == "staff:n:1"
    # One's own messages from the sender (a reminder) are pickable as usual.
    await console.send("local", Reply("Reminder", (Choice("rsvp:yes", "Yes"),)), bulk=True)
    assert console.parse("1").choice == "rsvp:yes"
