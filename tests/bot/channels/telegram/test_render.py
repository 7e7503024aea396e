"""Replies rendered for Telegram within its limits."""

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.channels.telegram.render import MAX_TEXT, markup_for, markup_json, render, split_text
from handlers.engine.messages import Choice, Reply


def test_long_text_is_split_within_the_limit_without_losing_words() -> None:
    text = " ".join(f"palabra{i}" for i in range(2000))
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(chunk) <= MAX_TEXT for chunk in chunks)
    assert " ".join(chunks).split() == text.split()


def test_a_text_without_spaces_is_cut_hard() -> None:
    assert [len(c) for c in split_text("x" * 9000)] == [4096, 4096, 808]


def test_only_the_last_part_carries_the_buttons() -> None:
    messages = render(Reply("y " * 3000, (Choice("a:b", "B"),)))
    assert [m.markup is not None for m in messages] == [False, True]


def test_short_labels_two_to_a_row_and_back_on_its_own() -> None:
    choices = tuple(Choice(f"category:c{i}", f"Tema {i}") for i in range(5))
    markup = markup_for(Reply("?", (*choices, Choice("category:back", "◀️ Atrás"))))
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [len(row) for row in markup.inline_keyboard] == [2, 2, 1, 1]


def test_a_location_question_uses_a_reply_keyboard() -> None:
    markup = markup_for(Reply("¿Dónde?", (Choice("location:n0", "La Flora"),), "📍 Compartir"))
    assert isinstance(markup, ReplyKeyboardMarkup)
    assert markup.keyboard[0][0].request_location
    assert markup.keyboard[1][0].text == "La Flora"
    assert markup.one_time_keyboard


def test_button_ids_over_64_bytes_are_a_bug() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        markup_for(Reply("?", (Choice("x:" + "ñ" * 40, "X"),)))


@pytest.mark.parametrize(
    "reply",
    [
        Reply("?", (Choice("consent:yes", "Sí"), Choice("consent:no", "No"))),
        Reply(
            "?",
            (
                *(Choice(f"category:c{i}", f"Tema {i}") for i in range(5)),
                Choice("category:back", "◀️ Atrás"),
            ),
        ),
        Reply("?", (Choice("event:12:yes", "Voy", "sáb 16 ago"),)),
        Reply("¿Dónde?", (Choice("location:n0", "La Flora"),), "📍 Compartir"),
    ],
)
def test_the_markup_sent_is_what_python_telegram_bot_would_send(reply: Reply) -> None:
    """Replies' buttons go to the Bot API as built here (markup_json), not through PTB's
    to_dict: the JSON must be the same, for every kind of keyboard rendered."""
    markup = markup_for(reply)
    assert markup is not None
    assert markup_json(markup) == markup.to_dict()


def test_a_keyboard_shown_to_many_is_made_once() -> None:
    """Every resident at a question gets the same buttons: PTB's keyboard is made once and
    shared (it cannot be changed), and other labels or ids make another."""
    yes_no = (Choice("consent:yes", "Sí"), Choice("consent:no", "No"))
    first = markup_for(Reply("¿Acepta?", yes_no))
    assert markup_for(Reply("Otra pregunta, mismos botones", yes_no)) is first
    english = markup_for(
        Reply("Agree?", (Choice("consent:yes", "Yes"), Choice("consent:no", "No")))
    )
    assert english is not None and english != first
