"""PTB's Bot API calls over aiohttp: what reaches the server, and errors as PTB's own."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.render import markup_json
from bot.channels.telegram.send import api_call
from tests.fakes.telegram_api import TOKEN, FakeBotApi


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(4, read_timeout=0.3, connect_timeout=0.3)
    await request.initialize()
    yield request
    await request.shutdown()


async def test_parameters_and_files_reach_the_bot_api_as_ptb_sends_them(api: FakeBotApi) -> None:
    bot = Bot(TOKEN, base_url=api.base_url, request=AiohttpRequest(4))
    async with bot:
        text = "Taller «Huertas» — 16 ago, 2:00 p. m. <b>no es HTML</b> & más"
        await bot.send_message(42, text)
        await bot.send_document(42, InputFile(b"BEGIN:VCALENDAR", filename="taller.ics"),
                                caption="Añadir al calendario")  # fmt: skip
    assert api.sent[42][0]["text"] == text
    document = api.sent[42][1]
    assert document["caption"] == "Añadir al calendario"
    assert document["document"]["file_name"] == "taller.ics"
    assert api.files[document["document"]["file_id"]] == b"BEGIN:VCALENDAR"


async def test_a_refused_connection_is_a_network_error(request_: AiohttpRequest) -> None:
    with pytest.raises(NetworkError):
        await request_.post("http://127.0.0.1:9/bot/getMe")  # nothing listens on port 9


async def test_a_server_that_never_answers_is_a_time_out(request_: AiohttpRequest) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes the connection

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimedOut):
            await request_.post(f"http://127.0.0.1:{port}/bot/getMe")
    finally:
        server.close()


async def test_a_longer_read_time_out_passed_by_ptb_is_honoured(request_: AiohttpRequest) -> None:
    """getUpdates waits longer than the default read time-out (long polling)."""

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.6)
        body = b'{"ok": true, "result": []}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await request_.post(f"http://127.0.0.1:{port}/bot/getUpdates", read_timeout=2)
    finally:
        server.close()
    assert result == []


async def test_a_request_before_initialize_says_so() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/", "POST")


async def test_a_raw_call_reaches_the_server_as_ptbs_own_and_fails_as_it_does(
    api: FakeBotApi,
) -> None:
    """Replies and button answers skip PTB's conversion of their parameters (api_call,
    JsonParameters): the server gets the same JSON, and its refusals are PTB's errors."""
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Sí", callback_data="consent:yes")]])
    bot = Bot(TOKEN, base_url=api.base_url, request=AiohttpRequest(4))
    async with bot:
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": 42, "text": "¿Sí?",
                                                            "reply_markup": markup})  # fmt: skip
        await api_call(bot, "sendMessage", {"chat_id": 42, "text": "¿Sí?",
                                            "reply_markup": markup_json(markup)})  # fmt: skip
        await bot.answer_callback_query("cb1")
        await api_call(bot, "answerCallbackQuery", {"callback_query_id": "cb1"})
        api.send_errors[42] += [
            {"error_code": 429, "description": "Too Many Requests: retry after 3",
             "parameters": {"retry_after": 3}},
            {"error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        ]  # fmt: skip
        with pytest.raises(RetryAfter):
            await api_call(bot, "sendMessage", {"chat_id": 42, "text": "x"})
        with pytest.raises(Forbidden):
            await api_call(bot, "sendMessage", {"chat_id": 42, "text": "x"})
    sent, answered = api.called("sendMessage"), api.called("answerCallbackQuery")
    assert sent[0] == sent[1]
    assert answered[0] == answered[1] == {"callback_query_id": "cb1"}
