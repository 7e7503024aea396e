"""Replies rendered for WhatsApp stay within what the Graph API accepts (else: a 400)."""

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.text import shorten
from bot.channels.whatsapp.render import (
    MAX_BUTTON_TITLE,
    MAX_INTERACTIVE_BODY,
    MAX_LIST_BODY,
    MAX_LIST_BUTTON,
    MAX_LIST_ROWS,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    MAX_TEXT,
    Words,
    render_all,
    template_message,
)
from handlers.engine.messages import Choice, Document, Reply, Venue

WORDS = Words()


def _choices(*labels: str) -> tuple[Choice, ...]:
    return tuple(Choice(f"step:{n}", label) for n, label in enumerate(labels))


def test_up_to_three_choices_that_fit_are_reply_buttons() -> None:
    [message] = render_all([Reply("¿Quiere seguir?", _choices("Sí", "Aún no", "Volver"))], WORDS)
    interactive = message.body["interactive"]
    assert interactive["type"] == "button"
    titles = [b["reply"]["title"] for b in interactive["action"]["buttons"]]
    assert titles == ["Sí", "Aún no", "Volver"]


def test_a_label_that_would_be_cut_goes_as_a_list_with_its_full_label() -> None:
    """A button reading "Dejar de recibir no…" says nothing a person can act on."""
    privacy = _choices("🔔 Recibir novedades de mis ideas",
                       "Dejar de recibir anuncios e invitaciones")  # fmt: skip
    [message] = render_all([Reply("Sus permisos:", privacy)], WORDS)
    interactive = message.body["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [row["description"] for row in rows] == [c.label for c in privacy]


def test_labels_that_shorten_alike_go_as_a_list_shown_in_full() -> None:
    both = _choices("Servicio a la ciudadanía (externo)", "Servicio a la ciudadanía (interno)")
    [message] = render_all([Reply("¿Cuál?", both)], WORDS)
    interactive = message.body["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert rows[0]["description"] == "Servicio a la ciudadanía (externo)"


def test_four_to_ten_choices_are_a_list_and_more_are_numbered_text() -> None:
    [listed] = render_all([Reply("Tema", _choices(*(f"Tema {n}" for n in range(10))))], WORDS)
    assert listed.body["interactive"]["type"] == "list"
    assert listed.body["interactive"]["action"]["button"] == WORDS.choose
    [numbered] = render_all([Reply("Barrio", _choices(*(f"Barrio {n}" for n in range(12))))],
                            WORDS)  # fmt: skip
    body = numbered.body["text"]["body"]
    assert numbered.body["type"] == "text" and "1. Barrio 0" in body and "12. Barrio 11" in body
    assert body.endswith(WORDS.numbered_hint)


def test_a_long_question_with_buttons_is_text_first_then_the_buttons() -> None:
    text = ("Una frase bastante larga sobre el barrio. " * 60).strip()
    messages = render_all([Reply(text, _choices("Sí", "No"))], WORDS)
    assert [m.kind for m in messages][-1] == "interactive"
    assert all(m.kind == "text" for m in messages[:-1]) and len(messages) >= 2
    body = messages[-1].body["interactive"]["body"]["text"]
    assert len(body) <= MAX_INTERACTIVE_BODY
    rebuilt = " ".join([*(m.body["text"]["body"] for m in messages[:-1]), body])
    assert rebuilt.split() == text.split()  # nothing lost, no word cut


def test_a_location_question_asks_with_whatsapp_s_button_then_offers_the_rest() -> None:
    reply = Reply("¿Dónde pasa?", _choices("La Flora", "Volver"), location_button="📍 Ubicación",
                  choices_text="¿Dónde pasa? O elija su barrio:")  # fmt: skip
    request, rest = render_all([reply], WORDS)
    assert request.body["interactive"]["type"] == "location_request_message"
    assert request.body["interactive"]["action"] == {"name": "send_location"}
    assert rest.body["interactive"]["body"]["text"] == reply.choices_text


def test_a_choice_with_a_detail_is_a_list_row_with_it_below() -> None:
    events = (Choice("ev:1:show", "Taller de co-creación", "sáb 16 ago, 2:00 p. m."),
              Choice("ev:2:show", "Taller de co-creación", "sáb 23 ago, 2:00 p. m."))  # fmt: skip
    [message] = render_all([Reply("Próximos eventos", events)], WORDS)
    rows = message.body["interactive"]["action"]["sections"][0]["rows"]
    assert [r["description"] for r in rows] == ["sáb 16 ago, 2:00 p. m.", "sáb 23 ago, 2:00 p. m."]


def test_a_single_long_choice_opens_with_its_own_words() -> None:
    """An offered idea's "join" (too long for a reply button): the list's button says what
    it does, not "Options"."""
    join = Choice("similar:join:12", "👍 Es el mismo: sumarme", "MNG-2026-000012")
    [message] = render_all([Reply("MNG-2026-000012 · Recibida", (join,))], WORDS)
    action = message.body["interactive"]["action"]
    assert action["button"] == shorten(join.label, MAX_LIST_BUTTON) != WORDS.choose
    assert [row["id"] for row in action["sections"][0]["rows"]] == ["similar:join:12"]


def test_a_venue_is_a_location_message_and_a_file_an_upload() -> None:
    venue = Venue("Casa de la Cultura", "Cra 14 # 135-20 Sur", 4.48, -74.12)
    ics = Document("evento-1.ics", b"BEGIN:VCALENDAR", "text/calendar")
    messages = render_all([Reply("📅 Taller", _choices("Voy", "No puedo"), venue=venue,
                                 document=ics)], WORDS)  # fmt: skip
    assert [m.kind for m in messages] == ["interactive", "document", "location"]
    assert messages[1].upload is not None and messages[1].upload.filename == "evento-1.ics"
    assert messages[2].body["location"]["name"] == "Casa de la Cultura"
    [captioned] = render_all([Reply("Su exportación", document=ics)], WORDS)
    assert captioned.body["document"]["caption"] == "Su exportación"


def test_template_parameters_are_one_line() -> None:
    message = template_message("minga_anuncio", "es", ["Línea uno\n\nLínea\tdos   y tres"])
    [parameter] = message.body["template"]["components"][0]["parameters"]
    assert parameter["text"] == "Línea uno Línea dos y tres"


def test_shorten_keeps_whole_words() -> None:
    assert shorten("Servicio a la ciudadanía", 20) == "Servicio a la…"
    assert shorten("Supercalifragilístico", 10) == "Supercali…"
    assert shorten("Corto", 20) == "Corto"


labels = st.text(min_size=1, max_size=120).filter(lambda s: s.strip())


@given(
    text=st.text(max_size=9000),
    choice_labels=st.lists(labels, max_size=14),
    location=st.booleans(),
)
def test_whatever_the_reply_nothing_exceeds_a_limit(
    text: str, choice_labels: list[str], location: bool
) -> None:
    reply = Reply(text, _choices(*choice_labels), location_button="📍" if location else None)
    for message in render_all([reply], WORDS):
        body = message.body
        if body["type"] == "text":
            assert 0 < len(body["text"]["body"]) <= MAX_TEXT
            continue
        interactive = body["interactive"]
        kind = interactive["type"]
        limit = MAX_LIST_BODY if kind == "list" else MAX_INTERACTIVE_BODY
        assert 0 < len(interactive["body"]["text"]) <= limit
        if kind == "button":
            titles = [b["reply"]["title"] for b in interactive["action"]["buttons"]]
            assert 1 <= len(titles) <= 3 and len(set(titles)) == len(titles)
            assert all(0 < len(t) <= MAX_BUTTON_TITLE for t in titles)
        if kind == "list":
            assert 0 < len(interactive["action"]["button"]) <= MAX_LIST_BUTTON
            rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
            assert 1 <= len(rows) <= MAX_LIST_ROWS
            assert all(0 < len(r["title"]) <= MAX_ROW_TITLE for r in rows)
            assert all(len(r.get("description", "")) <= MAX_ROW_DESCRIPTION for r in rows)
