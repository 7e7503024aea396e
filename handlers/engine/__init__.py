"""The machinery every flow plugs into: one message in (dispatcher), one turn (turn, routing,
button ids, side trips), what is said (messages, catalog, replies), where a conversation is
(state), and the clock, the flood gate and the settings. It imports no flow: the flows are
listed in handlers/flows.py and handed to it as routing tables."""
