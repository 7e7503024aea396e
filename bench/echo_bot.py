"""The baseline: a bare python-telegram-bot echo bot, set up like Minga's Application
(concurrent updates), answering every message and button press with one message."""

import argparse
import asyncio

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

SLOTS: asyncio.Semaphore | None = None  # at most --slots API calls in flight, as in Minga


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    assert SLOTS is not None
    if update.callback_query is not None:
        async with SLOTS:
            await update.callback_query.answer()
        async with SLOTS:
            await context.bot.send_message(chat.id, update.callback_query.data or "?")
    elif update.message is not None:
        async with SLOTS:
            await context.bot.send_message(chat.id, update.message.text or "?")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--pool", type=int, default=256, help="HTTP connections to the API")
    parser.add_argument("--poll-interval", type=float, default=0.0)
    parser.add_argument("--slots", type=int, default=1_000_000, help="API calls in flight")
    parser.add_argument("--aiohttp", action="store_true", help="Minga's HTTP client, not httpx")
    args = parser.parse_args()
    global SLOTS
    SLOTS = asyncio.Semaphore(args.slots)
    builder = Application.builder().token(args.token).base_url(args.base_url)
    builder = builder.concurrent_updates(True)
    if args.aiohttp:
        from bot.channels.telegram.http import AiohttpRequest

        builder = builder.request(AiohttpRequest(args.pool)).get_updates_request(AiohttpRequest(1))
    else:
        builder = builder.connection_pool_size(args.pool)
    application = builder.build()
    application.add_handler(TypeHandler(Update, echo))
    application.run_polling(
        allowed_updates=["message", "callback_query"], timeout=10, poll_interval=args.poll_interval
    )


if __name__ == "__main__":
    main()
