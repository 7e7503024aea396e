"""Reading webhook bodies: what each kind of message means to Minga, and what is left out."""

import json

from bot.channels.whatsapp.payload import ErrorNotice, Incoming, Status, events, read_message
from tests.bot.channels.whatsapp.conftest import PAYLOADS


def _events(name: str) -> list:
    return list(events(json.loads((PAYLOADS / name).read_text())))


def _one(name: str) -> Incoming:
    """The file's one message (some also carry an error notice about it)."""
    [event] = [e for e in _events(name) if isinstance(e, Incoming)]
    return event


def test_texts_buttons_lists_and_places_are_read() -> None:
    assert _one("meta_msg_text.json").text
    assert _one("meta_interactive_button_reply.json").choice == "change-button"
    assert _one("meta_interactive_list_reply.json").choice == "priority_express"
    assert _one("pywa_button_quick_reply.json").choice == "callback_data"
    place = _one("meta_msg_location_from_request.json")
    assert (place.latitude, place.longitude) == (40.782910059774, -73.959075808525)


def test_photos_and_voice_notes_are_media_to_fetch() -> None:
    photo = _one("pywa_msg_image.json")
    assert (photo.media_kind, photo.media_id, photo.mime_type) == (
        "photo",
        "65463453",
        "image/jpeg",
    )
    voice = _one("pywa_msg_voice.json")
    assert (voice.media_kind, voice.media_id) == ("voice", "1234567890987654321")
    assert _one("pywa_msg_audio.json").media_kind == "voice"


def test_what_cannot_be_read_is_named_for_a_kind_answer() -> None:
    kinds = {name: _one(name).unsupported for name in (
        "pywa_msg_static_sticker.json", "pywa_msg_reaction.json",
        "pywa_msg_contacts.json", "pywa_edited_image.json", "meta_msg_unsupported.json",
        "pywa_msg_video.json", "pywa_msg_interactive_message_with_err.json")}  # fmt: skip
    assert kinds == {
        "pywa_msg_static_sticker.json": "sticker",
        "pywa_msg_reaction.json": "reaction", "pywa_msg_contacts.json": "contact",
        "pywa_edited_image.json": "edited", "meta_msg_unsupported.json": "unsupported",
        "pywa_msg_video.json": "video", "pywa_msg_interactive_message_with_err.json": "unsupported",
    }  # fmt: skip


def test_a_document_is_fetched_to_see_whether_it_is_a_photo() -> None:
    document = _one("pywa_msg_document.json")
    assert document.media_kind == "document" and document.media_id


def test_what_is_nobody_talking_is_left_out() -> None:
    for name in ("pywa_msg_unreaction_empty.json", "pywa_deleted_revoke.json",
                 "pywa_system_identity_change.json", "pywa_outgoing_text.json",
                 "pywa_mktprefs_signup.json", "pywa_status_group.json"):  # fmt: skip
        assert _events(name) == [], name
    group = {"from": "57300", "id": "wamid.g", "type": "text", "group_id": "1203",
             "text": {"body": "hola"}}  # fmt: skip
    assert read_message(group) is None


def test_the_sender_is_their_wa_id_or_else_their_business_scoped_id() -> None:
    assert _one("meta_msg_text.json").user_key == "16505551234"
    hidden = {"from_user_id": "US.13491208655302741918", "id": "wamid.u", "type": "text",
              "text": {"body": "hola"}, "timestamp": "1750000000"}  # fmt: skip
    read = read_message(hidden)
    assert read is not None and read.user_key == "US.13491208655302741918"


def test_statuses_and_errors_are_read_from_a_batch() -> None:
    batch = _events("synthetic_batched_entries_changes_statuses.json")
    statuses = [e for e in batch if isinstance(e, Status)]
    messages = [e for e in batch if isinstance(e, Incoming)]
    assert [s.report.status for s in statuses] == ["sent", "delivered", "sent"]
    assert [m.message_id for m in messages] == ["wamid.xyzxyz", "wamid.other_entry"]
    [failed] = _events("synthetic_status_failed_131047.json")
    assert isinstance(failed, Status) and failed.report.error_code == 131047
    [bsuid] = _events("meta_bsuid_status_delivered_no_phone.json")
    assert isinstance(bsuid, Status) and bsuid.user_key == "US.13491208655302741918"
    [notice] = _events("meta_errors_value_level_130429.json")
    assert notice == ErrorNotice(130429, notice.title)
