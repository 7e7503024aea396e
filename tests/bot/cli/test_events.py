"""`minga events ...` and `minga broadcast ...` as a lab's installer scripts them: --json, one
clear line and exit status 2 for a bad argument, a QR code that decodes to the link."""

import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image

from bot.cli.main import main
from tests.fakes.clock import FakeClock
from tests.fakes.sql import cli_database, cli_in, connect_sync

ADD = ["events", "add", "--title", "Lanzamiento de Usme Innova", "--starts", "2030-08-16 14:00",
       "--venue", "Auditorio de la Alcaldía Local", "--address", "Calle 137 Sur # 13-51",
       "--lat", "4.4791", "--lon", "-74.1264", "--capacity", "120"]  # fmt: skip
CHROMIUM_FOR_QR = shutil.which("chromium") or shutil.which("chromium-browser")
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("America/Bogota"))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_in(tmp_path, monkeypatch)
    monkeypatch.setenv("MINGA_TELEGRAM__BOT_USERNAME", "usme_innova_bot")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_add_list_show_edit_cancel(capsys: pytest.CaptureFixture[str]) -> None:
    created = _json(capsys, *ADD)
    assert created["id"] == 1 and created["starts"] == "2030-08-16T14:00:00-05:00"
    assert created["ends"] == "2030-08-16T16:00:00-05:00"  # two hours unless told
    [listed] = _json(capsys, "events", "list")
    assert listed["title"] == "Lanzamiento de Usme Innova" and listed["capacity"] == 120
    shown = _json(capsys, "events", "show", "1")
    assert shown["venue"] == "Auditorio de la Alcaldía Local" and shown["going"] == 0
    moved = _json(capsys, "events", "edit", "1", "--starts", "2030-08-17 15:00")
    assert moved["status"] == "moved" and moved["ends"] == "2030-08-17T17:00:00-05:00"
    cancelled = _json(capsys, "events", "cancel", "1")
    assert cancelled["status"] == "cancelled"
    assert _json(capsys, "events", "list") == []
    assert len(_json(capsys, "events", "list", "--all")) == 1


def test_human_output_is_short(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(ADD) == 0
    out = capsys.readouterr().out
    assert out.startswith("event 1 created") and "2030-08-16 14:00" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--starts", "algún día"], "use YYYY-MM-DD HH:MM"),
        (["--starts", "2020-01-01 10:00"], "already passed"),
        (["--ends", "2030-08-16 13:00"], "end must come after the start"),
        (["--lat", "4.5"], "both the latitude and the longitude"),
        (["--capacity", "0"], "capacity must be a number above zero"),
    ],
)
def test_a_bad_argument_is_one_clear_line_and_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    base = [a for a in ADD if a not in ("--lat", "4.4791", "--lon", "-74.1264")]
    changed = list(base)
    for option, value in zip(argv[::2], argv[1::2], strict=True):
        if option in changed:
            changed[changed.index(option) + 1] = value
        else:
            changed += [option, value]
    assert main(changed) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_unknown_event_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "show", "9"]) == 2
    assert "there is no event 9" in capsys.readouterr().err


def test_link_and_a_qr_code_that_decodes_to_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(ADD) == 0
    capsys.readouterr()
    link = _json(capsys, "events", "link", "1", "--qr", str(tmp_path / "poster.png"))
    assert link["url"] == "https://t.me/usme_innova_bot?start=ev1"
    picture = Image.open(tmp_path / "poster.png")
    assert min(picture.size) >= 1000  # print quality: 8 cm at 300 dpi (370 px before)
    [decoded] = zxingcpp.read_barcodes(picture)
    assert decoded.text == link["url"]


def test_an_svg_qr_code_for_print(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(ADD) == 0
    capsys.readouterr()
    link = _json(capsys, "events", "link", "1", "--qr", str(tmp_path / "poster.svg"))
    root = ElementTree.parse(tmp_path / "poster.svg").getroot()
    assert root.tag.endswith("svg") and root.get("width", "").endswith("mm")
    width = float(root.get("width", "0").removesuffix("mm"))
    assert width >= 30  # a few centimetres as it is, and sharp at any size
    assert link["qr"] == str(tmp_path / "poster.svg")
    # Drawn back as a raster by a browser, the vector file scans as the same link.
    if CHROMIUM_FOR_QR:
        shot = tmp_path / "svg.png"
        subprocess.run([CHROMIUM_FOR_QR, "--headless=new", "--no-sandbox", "--disable-gpu",
                        f"--screenshot={shot}", "--window-size=600,600",
                        (tmp_path / "poster.svg").as_uri()],
                       capture_output=True, timeout=120, check=True)  # fmt: skip
        [decoded] = zxingcpp.read_barcodes(Image.open(shot))
        assert decoded.text == link["url"]
    assert main(["events", "link", "1", "--qr", str(tmp_path / "poster.jpg")]) == 2


def _opt_in(count: int) -> None:
    assert main(["db", "upgrade"]) == 0
    with connect_sync(cli_database()) as db:
        db.executemany(
            "INSERT INTO residents (channel, user_key, language, created_at, announcements_at, "
            "announcements_version) "
            "VALUES ('telegram', ?, 'es', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', "
            "'2026-08')",
            [(str(9000 + i),) for i in range(count)],
        )


def test_broadcast_send_queues_for_the_running_bot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(ADD) == 0
    _opt_in(3)
    capsys.readouterr()
    queued = _json(capsys, "broadcast", "send", "--text", "¡Les esperamos!", "--event", "1",
                   "--audience", "all", "--yes")  # fmt: skip
    assert (queued["id"], queued["recipients"], queued["pending"]) == (1, 3, 3)
    status = _json(capsys, "broadcast", "status", "1")
    assert status["pending"] == 3 and status["sent"] == 0
    [listed] = _json(capsys, "broadcast", "list")
    assert listed["id"] == 1


def test_broadcast_without_yes_and_without_a_terminal_asks_for_yes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _opt_in(2)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["broadcast", "send", "--text", "Hola"]) == 2
    assert "add --yes" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("audience", "message"),
    [("barrio:La Flora", "don't understand the audience"), ("category:nope", "no topic"),
     ("event:77", "no event 77")],
)  # fmt: skip
def test_a_bad_audience_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], audience: str, message: str
) -> None:
    assert main(["broadcast", "send", "--text", "Hola", "--audience", audience, "--yes"]) == 2
    assert message in capsys.readouterr().err


def test_help_names_the_new_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "events" in out and "broadcast" in out
    with pytest.raises(SystemExit):
        main(["broadcast", "send", "--help"])
    out = capsys.readouterr().out
    for option in ("--text", "--event", "--audience", "--yes", "--wait", "--json"):
        assert option in out


@pytest.mark.parametrize(
    ("starts", "ends", "start", "end"),
    [
        ("16 Aug 2 p.m.", None, "2027-08-16T14:00:00-05:00", "2027-08-16T16:00:00-05:00"),
        ("16/08/2027 2 pm", "6 pm", "2027-08-16T14:00:00-05:00", "2027-08-16T18:00:00-05:00"),
        ("mañana a las 3", None, "2026-12-05T15:00:00-05:00", "2026-12-05T17:00:00-05:00"),
        ("2027-08-16 14:00", "16/08/2027 17:30", "2027-08-16T14:00:00-05:00",
         "2027-08-16T17:30:00-05:00"),
    ],
)  # fmt: skip
def test_events_add_reads_dates_as_the_chat_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    starts: str, ends: str | None, start: str, end: str,
) -> None:  # fmt: skip
    monkeypatch.setattr("bot.app.SystemClock", lambda: FakeClock(NOW))
    argv = ["events", "add", "--title", "Lanzamiento", "--venue", "Auditorio", "--starts", starts]
    created = _json(capsys, *argv, *(["--ends", ends] if ends else []))
    assert (created["starts"], created["ends"]) == (start, end)


def test_a_past_date_names_the_date_it_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.app.SystemClock", lambda: FakeClock(NOW))
    argv = ["events", "add", "--title", "Lanzamiento", "--venue", "Auditorio"]
    assert main([*argv, "--starts", "16/08/2026 14:00"]) == 2
    err = capsys.readouterr().err
    assert "already passed" in err and "August 16, 2026" in err and err.count("\n") == 1
    assert "2026-12-25" in err  # the example is weeks ahead of the clock, not a fixed date


def test_calls_add_reads_a_spanish_deadline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.app.SystemClock", lambda: FakeClock(NOW))
    created = _json(capsys, "calls", "add", "--title", "Agua", "--deadline", "31 de marzo de 2027")
    assert created["deadline"].startswith("2027-04-01T04:59")  # 23:59 in Bogotá, in UTC
    assert main(["calls", "list"]) == 0
    out = capsys.readouterr().out
    assert "Mar 31, 2027" in out and not re.search(r"\d:\d\d:\d\d", out)
