"""The Telegram channel: python-telegram-bot updates in, rendered replies out.

channel.py is the adapter (the application, updates to the dispatcher, the sender's transport);
inbound.py turns an update into an Inbound, files.py fetches and keeps what residents send,
menus.py registers the command menus, send.py makes the Bot API calls and paces them,
render.py turns replies into messages, http.py is PTB's HTTP on aiohttp, webhook.py the
webhook route.
"""

import os
import warnings

from telegram.warnings import PTBUserWarning

CHANNEL = "telegram"

# Opt in now to python-telegram-bot 23's durations (timedelta, not int), which send.py reads.
os.environ.setdefault("PTB_TIMEDELTA", "1")
# PTB asks to use send_message instead of do_api_request("sendMessage"): see send.py for why not.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)
