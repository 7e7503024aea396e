"""A database as Minga left it before the restructuring of issue 18 (main at e47fd77, schema
version 7), with conversations in progress: built with raw SQL from frozen literals.

Every step name, draft (JSON text) and button id below was captured by driving the real flows
of that version with tests/fakes/chat.py and reading the `conversations` rows and the buttons
each answer carried. They are what sits in residents' databases and chats today: never
regenerate them from newer code, and never build them through the Python models (they change).
"""

from pathlib import Path

import aiosqlite

from storage.migrations import apply_migrations

# The schema that version left: migrations 0001..0007. Later ones must run on top of it.
OLD_SCHEMA_VERSION = 7

# What positions in old buttons meant then. Neighbourhood buttons ("location:n4",
# "bc_filter:neighbourhood:4", the staff list's filter) carried an index into the configured
# list (here the defaults of that version); staff status buttons ("st:s:<idea>:<i>" and the
# list's filter) an index into tuple(IdeaStatus); the list's category filter an index into the
# configured categories.
OLD_NEIGHBOURHOODS = ("Alfonso López", "Comuneros", "Danubio", "Gran Yomasa", "La Flora",
                      "Ciudad Usme")  # fmt: skip
OLD_STATUS_ORDER = ("received", "in_review", "selected", "in_progress", "implemented",
                    "not_selected", "duplicate")  # fmt: skip
OLD_CATEGORY_ORDER = ("mobility", "safety", "environment", "public_space", "health",
                      "education", "work", "digital", "other")  # fmt: skip

# Staff as the settings name them (Telegram user ids) and the team's group.
STAFF_IDS = (4242, 4343, 4444, 4545, 4646, 4747)
GROUP = "-1001234567890"
CHANNEL = "telegram"

POLICY = "2026-08"  # the privacy policy version in force (0006 writes it)
EVENT_TITLE = "Lanzamiento de Usme Innova"
CALL_TITLE = "Ideas para Usme 2027"
PROBLEM = "Los huecos de la calle 80 hacen caer a los ciclistas"
IDEA = "Tapar los huecos con una minga de la comunidad"

EVENT = {
    "id": 1, "title": EVENT_TITLE,
    "description": "Conozca el laboratorio y sus frentes de trabajo.",
    "starts_at": "2026-08-19T19:00:00.000000Z", "ends_at": "2026-08-19T21:00:00.000000Z",
    "venue": "Auditorio de la Alcaldía Local", "address": "Calle 137 Sur # 13-51",
    "latitude": 4.4791, "longitude": -74.1264, "capacity": None, "status": "scheduled",
    "created_by": "telegram:4242", "created_at": "2026-08-16T19:00:00.000000Z",
    "updated_at": "2026-08-16T19:00:00.000000Z",
}  # fmt: skip

CALL = {
    "id": 1, "title": CALL_TITLE, "description": "Propuestas para el plan local",
    "categories": '[{"id": "service", "es": "Servicio a la ciudadan\\u00eda", "en": "Service to'
                  ' residents", "focus": "external"}, {"id": "efficiency", "es": "Productividad'
                  ' y eficiencia interna", "en": "Productivity and efficiency inside the'
                  ' administration", "focus": "internal"}]',
    "deadline": "2026-10-01T04:59:00.000000Z", "closed_at": None, "results_at": None,
    "created_by": "telegram:4545", "created_at": "2026-08-16T19:00:07.000000Z",
}  # fmt: skip


def _resident(rid: int, user_key: str, created: str, **fields: object) -> dict[str, object]:
    return {"id": rid, "channel": CHANNEL, "user_key": user_key, "created_at": created, **fields}


def _consented(at: str, **fields: object) -> dict[str, object]:
    return {"language": "es", "consent_version": POLICY, "consent_at": at, **fields}


RESIDENTS = (
    _resident(1, "4545", "2026-08-16T19:00:01.000000Z", language="es"),
    _resident(2, "7001", "2026-08-16T19:00:08.000000Z",
              **_consented("2026-08-16T19:00:10.000000Z")),
    _resident(3, "7002", "2026-08-16T19:00:12.000000Z",
              **_consented("2026-08-16T19:00:14.000000Z")),
    _resident(4, "7003", "2026-08-16T19:00:17.000000Z",
              **_consented("2026-08-16T19:00:19.000000Z")),
    _resident(5, "7004", "2026-08-16T19:00:30.000000Z",
              **_consented("2026-08-16T19:00:32.000000Z")),
    _resident(6, "7005", "2026-08-16T19:00:37.000000Z"),  # language not known yet
    _resident(7, "7006", "2026-08-16T19:00:39.000000Z", language="es"),
    _resident(8, "7007", "2026-08-16T19:00:41.000000Z", role="resident",
              updates_at="2026-08-16T19:00:55.000000Z", updates_version=POLICY,
              announcements_off_at="2026-08-16T19:00:56.000000Z",
              **_consented("2026-08-16T19:00:43.000000Z")),
    _resident(9, "7008", "2026-08-16T19:00:59.000000Z", role="resident",
              updates_off_at="2026-08-16T19:01:13.000000Z",
              announcements_off_at="2026-08-16T19:01:14.000000Z",
              **_consented("2026-08-16T19:01:01.000000Z")),
    _resident(10, "7009", "2026-08-16T19:01:16.000000Z", role="resident",
              **_consented("2026-08-16T19:01:18.000000Z")),
    _resident(11, "7010", "2026-08-16T19:01:28.000000Z",
              **_consented("2026-08-16T19:01:30.000000Z")),
    _resident(12, "4242", "2026-08-16T19:01:34.000000Z", language="es"),
    _resident(13, "4343", "2026-08-16T19:01:36.000000Z", language="es"),
    _resident(14, "4444", "2026-08-16T19:01:40.000000Z", language="es"),
    _resident(15, "4646", "2026-08-16T19:01:46.000000Z", language="es"),
    _resident(16, "4747", "2026-08-16T19:01:47.000000Z", language="es"),
    _resident(17, "7011", "2026-08-15T10:00:00.000000Z", role="official",
              **_consented("2026-08-15T10:00:02.000000Z")),
    _resident(18, "7012", "2026-08-14T18:00:00.000000Z",
              **_consented("2026-08-14T18:00:02.000000Z")),
)  # fmt: skip

_MENU = ('[["menu:new","💡 Contar una idea"],["menu:mine","📋 Mis ideas"],'
         '["menu:events","📅 Eventos"],["menu:help","❓ Ayuda"]]')  # fmt: skip
_CALL_OFFERS = (
    '[{"id":1,"title":"Ideas para Usme 2027","categories":[["service","Servicio a la '
    'ciudadanía","Service to residents"],["efficiency","Productividad y eficiencia interna",'
    '"Productivity and efficiency inside the administration"]]}]'
)
_CARD_1 = ('[["st:s:1:1","→ En revisión"],["st:s:1:2","→ Seleccionada"],["st:s:1:3",'
           '"→ En marcha"],["st:s:1:4","→ Hecha realidad"],["st:s:1:5","→ No seleccionada"],'
           '["st:d:1","🔁 Es igual a otra"],["st:n:1","📝 Nota del equipo"],'
           '["st:r:1","💬 Responder a la persona"]]')  # fmt: skip
_CARD_2 = ('[["st:s:2:1","→ En revisión"],["st:s:2:2","→ Seleccionada"],["st:s:2:3",'
           '"→ En marcha"],["st:s:2:4","→ Hecha realidad"],["st:s:2:5","→ No seleccionada"],'
           '["st:d:2","🔁 Es igual a otra"],["st:n:2","📝 Nota del equipo"],'
           '["st:r:2","💬 Responder a la persona"]]')  # fmt: skip

# user key -> (step, draft as stored, updated_at): one conversation per person.
CONVERSATIONS: dict[str, tuple[str, str, str]] = {
    # Mid-intake: the problem written, the place asked.
    "7001": (
        "location",
        f'{{"role":"resident","problem":"{PROBLEM}"}}',
        "2026-08-16T19:00:11.000000Z",
    ),
    # Mid-intake: the place chosen with the button "location:n4", the category asked.
    "7002": (
        "category",
        f'{{"role":"resident","problem":"{PROBLEM}","location_text":"La Flora"}}',
        "2026-08-16T19:00:16.000000Z",
    ),
    # At the summary, for the open call, with a name and a phone number.
    "7003": (
        "summary",
        f'{{"role":"resident","problem":"{PROBLEM}","location_text":"Danubio",'
        f'"category":"mobility","idea":"{IDEA}","photos_done":true,"focus":"external",'
        '"anonymous":false,"name":"Ana Rojas","contact":"3001234567","contact_done":true,'
        f'"call_offers":{_CALL_OFFERS},"call_id":1,"call_category":"service",'
        '"call_done":true,"focus_from_call":true,"publish":"text"}',
        "2026-08-16T19:00:29.000000Z",
    ),
    # An official at the question "is it for the open call?".
    "7004": (
        "call",
        f'{{"role":"official","problem":"{PROBLEM}","location_text":"Alfonso López",'
        f'"category":"digital","no_idea":true,"call_offers":{_CALL_OFFERS}}}',
        "2026-08-16T19:00:36.000000Z",
    ),
    # Someone new at the language question, holding what they asked for meanwhile.
    "7005": (
        "language",
        '{"requests":[{"command":"eventos"},{"choice":"ev:1:show"}]}',
        "2026-08-16T19:00:38.000000Z",
    ),
    # Mid-RSVP: "I'll come" pressed at the role question, consent asked first.
    "7006": (
        "ev_consent",
        '{"return_to":"role","pending_event":"1:yes"}',
        "2026-08-16T19:00:40.000000Z",
    ),
    # /corregir while a new idea was begun: which to correct, then back to the problem.
    "7007": (
        "fix",
        '{"first_step":"problem","role":"resident","return_to":"problem",'
        '"fix_values":"Nombre: Beto Pérez · Contacto: beto@example.org"}',
        "2026-08-16T19:00:58.000000Z",
    ),
    # /borrar asked from rest, with one idea sent.
    "7008": (
        "erase",
        f'{{"return_to":"idle","fix_values":"1","offered":{_MENU}}}',
        "2026-08-16T19:01:15.000000Z",
    ),
    # An idea just sent: the receipt asked "news about it?" (buttons kept to answer by typing).
    "7009": (
        "idle",
        '{"offered":[["upd:on","🔔 Sí, avíseme"],["upd:no","No, gracias"]]}',
        "2026-08-16T19:01:27.000000Z",
    ),
    # At rest, the menu shown.
    "7010": ("idle", f'{{"offered":{_MENU}}}', "2026-08-16T19:01:32.000000Z"),
    "7011": ("idle", f'{{"offered":{_MENU}}}', "2026-08-15T10:05:00.000000Z"),
    # Mid-intake at the category, two days ago: asked to continue or start again.
    "7012": (
        "category",
        f'{{"role":"resident","problem":"{PROBLEM}","location_text":"Comuneros"}}',
        "2026-08-14T18:05:00.000000Z",
    ),
    # Staff: a new event, the title given, its start asked.
    "4242": (
        "ne_starts",
        '{"return_to":"idle","staff":{"title":"Feria de ideas del barrio"}}',
        "2026-08-16T19:01:35.000000Z",
    ),
    # Staff: a broadcast written, the event to attach asked (the upcoming ones offered).
    "4343": (
        "bc_event",
        '{"return_to":"idle","staff":{"text":"Reunión de vecinos de La Flora el jueves",'
        '"offered":[[1,"Lanzamiento de Usme Innova"]]}}',
        "2026-08-16T19:01:37.000000Z",
    ),
    # Staff: a broadcast with the event, to one neighbourhood: which one asked.
    "4747": (
        "bc_filter",
        '{"return_to":"idle","staff":{"text":"Reunión de vecinos de La Flora el jueves",'
        '"event_id":1,"filter_kind":"neighbourhood","offered":[[1,"Lanzamiento de Usme '
        'Innova"]]}}',
        "2026-08-16T19:01:39.000000Z",
    ),
    # Staff: "not selected" pressed on idea 1's record: the reason asked.
    "4444": (
        "tr_reason",
        f'{{"return_to":"idle","staff":{{"text":"MNG-2026-000001","idea_id":1}},'
        f'"offered":{_CARD_1}}}',
        "2026-08-16T19:01:42.000000Z",
    ),
    # Staff: a second call for ideas, title and description given, its categories asked.
    "4545": (
        "cl_cats",
        '{"return_to":"idle","staff":{"title":"Segunda convocatoria",'
        '"description":"Más ideas"},"offered":[["st:l:0:...1","Ver sus ideas"],'
        '["st:cc:1","Cerrar ahora"]]}',
        "2026-08-16T19:01:45.000000Z",
    ),
    # Staff: idea 2's record open, its status buttons at hand.
    "4646": ("idle", f'{{"offered":{_CARD_2}}}', "2026-08-16T19:01:46.000000Z"),
}


def _idea(iid: int, resident: int, created: str, **fields: object) -> dict[str, object]:
    return {
        "id": iid, "reference": f"MNG-2026-{iid:06d}", "resident_id": resident,
        "role": "resident", "language": "es", "problem": PROBLEM, "idea": IDEA,
        "focus": "external", "anonymous": 0, "status": "received", "publish": "no",
        "created_at": created, "updated_at": created, **fields,
    }  # fmt: skip


IDEAS = (
    _idea(1, 8, "2026-08-16T19:00:54.000000Z", idea=None, category="safety",
          location_text="Comuneros", contact_name="Beto Pérez", contact="beto@example.org"),
    _idea(2, 9, "2026-08-16T19:01:12.000000Z", category="health", location_text="Gran Yomasa",
          contact_name="Carla Díaz"),
    _idea(3, 10, "2026-08-16T19:01:27.000000Z", category="environment",
          location_text="La Flora", anonymous=1, publish="text"),
    _idea(4, 17, "2026-08-15T10:04:00.000000Z", role="official", category="mobility",
          location_text="La Flora", anonymous=1, call_id=1, call_category="service",
          status="in_review", status_by="telegram:4646"),
)  # fmt: skip

# Buttons as that version made them, in residents' and staff's chats (pressed after the upgrade).
STATUS_BUTTONS_IDEA_2 = ("st:s:2:1", "st:s:2:2", "st:s:2:3", "st:s:2:4")  # idea 2 is "received"
STATUS_BUTTONS_IDEA_4 = ("st:s:4:0", "st:s:4:2", "st:s:4:3", "st:s:4:4")  # idea 4 "in_review"
NOT_SELECTED_BUTTON_IDEA_2 = "st:s:2:5"
LIST_BUTTONS = {  # the staff list's filters: status, category, neighbourhood, call
    "status": ("st:l:0:0...", "st:l:0:1..."),
    "category": ("st:l:0:.0..", "st:l:0:.2..", "st:l:0:.4.."),
    "neighbourhood": ("st:l:0:..1.", "st:l:0:..3.", "st:l:0:..4."),
    "call": ("st:l:0:...1",),
}


async def _insert(connection: aiosqlite.Connection, table: str, row: dict[str, object]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    await connection.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (names are ours)
        tuple(row.values()),
    )


async def _add_resident(connection: aiosqlite.Connection, resident: dict[str, object]) -> None:
    """The person first, then their answers, as the turns wrote them: the schema's triggers
    keep the proof of each consent (consent_log) as they did then."""
    identity = ("id", "channel", "user_key", "created_at")
    await _insert(connection, "residents", {k: resident[k] for k in identity})
    answers = {k: v for k, v in resident.items() if k not in identity}
    if answers:
        assignments = ", ".join(f"{column} = ?" for column in answers)
        await connection.execute(
            f"UPDATE residents SET {assignments} WHERE id = ?",  # noqa: S608 (names are ours)
            (*answers.values(), resident["id"]),
        )


async def build(path: Path) -> None:
    """Write the old schema and its rows to `path`, as that version left them."""
    async with aiosqlite.connect(path) as connection:
        await apply_migrations(connection, target=OLD_SCHEMA_VERSION)
        await connection.execute("BEGIN")
        for resident in RESIDENTS:
            await _add_resident(connection, resident)
        ids = {str(r["user_key"]): r["id"] for r in RESIDENTS}
        for user_key, (step, draft, updated_at) in CONVERSATIONS.items():
            await _insert(connection, "conversations", {"resident_id": ids[user_key],
                          "step": step, "draft": draft, "updated_at": updated_at})  # fmt: skip
        await _insert(connection, "events", EVENT)
        await _insert(connection, "calls", CALL)
        for idea in IDEAS:
            await _insert(connection, "ideas", idea)
        await _insert(connection, "reference_counters", {"year": 2026, "last": len(IDEAS)})
        await connection.execute("COMMIT")
        async with connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == OLD_SCHEMA_VERSION
