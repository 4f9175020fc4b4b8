"""The README's sandbox walk-through ("Try the whole flow on a laptop") end to end over real
HTTP, on both databases: onboard, ask for a connection session (the sandbox serves its
iframe page), connect Booking.com, push availability and rates with a weekday override, then
a guest books on the simulated OTA and the booking reaches the PMS.

Then the README's shell block itself: only portable constructs (Linux and macOS, bash, sh and
zsh), and, run as printed against `serve --sandbox`, each step announced and each answer
printed as indented JSON."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.services.personal_data import DEVELOPMENT_KEY_FILE
from app.serving import free_port
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE
from tests.e2e.ari_support import WEEKDAYS, Json, ok
from tests.e2e.live import live_service
from tests.e2e.processes import processes, wait_for_http
from tests.sandbox.servers import serve
from tests.waiting import eventually

SANDBOX_KEY = "walkthrough-sandbox-key"
DEADLINE_SECONDS = 60.0  # a hang guard; a leg takes a few seconds
WEEKEND = ["fr", "sa"]


async def poll(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Until `check` holds; the state lives in other servers, no event to wait on."""
    try:
        await eventually(check, DEADLINE_SECONDS, poll=0.2)
    except TimeoutError:
        raise AssertionError(f"not within {DEADLINE_SECONDS} s: {what}") from None


def nights(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def test_the_readme_walkthrough_over_real_http(database_url: str) -> None:
    # Time is not scaled, only the rate limit: Channex allows 10 ARI writes per minute per
    # property and endpoint (our limiter spaces them 6 s apart); here both sides allow
    # FAST_RATE_LIMIT_PER_MINUTE (the tests' settings).
    sandbox = create_sandbox_app(
        SandboxConfig(api_key=SANDBOX_KEY, rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE, seed=7)
    )
    state: SandboxState = sandbox.state.sandbox
    async with (
        serve(sandbox) as sandbox_url,
        live_service(database_url, sandbox_url, SANDBOX_KEY) as (
            api,
            tools,
        ),
    ):
        # 1. onboard: organization -> Channex group, property, room type, rate plan
        await ok(await api.put("/v1/organizations/org-1", json={"title": "Seaside Hotels"}))
        prop = await ok(
            await api.put(
                "/v1/properties/p-1",
                json={
                    "organization_id": "org-1",
                    "title": "Seaside Hotel",
                    "currency": "EUR",
                    "timezone": "Europe/Lisbon",
                },
            )
        )
        room = await ok(
            await api.put(
                "/v1/properties/p-1/room-types/dbl",
                json={"title": "Double", "count_of_rooms": 5, "occ_adults": 2},
            )
        )
        rate = await ok(
            await api.put(
                "/v1/properties/p-1/room-types/dbl/rate-plans/bar",
                json={
                    "title": "Best Available Rate",
                    "options": [{"occupancy": 2, "rate": "120"}],
                },
            )
        )
        cp, rt = prop["channex_property_id"], room["channex_room_type_id"]
        rp = rate["channex_rate_plan_id"]
        assert {p.id for p in state.store.properties.values()} == {cp}

        async def webhook_registered() -> bool:
            return len(state.store.webhooks) == 1

        await poll(webhook_registered, "channel-sync registered its webhook in the sandbox")

        # 2. a connection session: the iframe URL, served by the sandbox itself
        session = await ok(
            await api.post("/v1/properties/p-1/channels/session", json={"channels": ["BDC", "EXP"]})
        )
        assert session["url"].startswith(f"{sandbox_url}/auth/exchange?oauth_session_key=")
        async with httpx.AsyncClient() as browser:
            page = await browser.get(session["url"])
        assert page.status_code == 200, page.text
        assert "Booking.com" in page.text
        assert "Expedia" in page.text
        assert "Airbnb" not in page.text

        # 3. without a browser: the simulated OTA connects Booking.com; channel-sync sees it
        connected = await ok(
            await tools.post(f"/properties/{cp}/channels", json={"channel": "BookingCom"})
        )
        response = await api.get("/v1/properties/p-1/channels")
        assert response.status_code == 200, response.text
        assert [(c["channex_channel_id"], c["channel"], c["is_active"]) for c in
                response.json()] == [(connected["data"]["id"], "BookingCom", True)]  # fmt: skip

        # 4. push availability and rates (weekend prices and min stay on Fri and Sat)
        today = datetime.now(UTC).date()
        first, last = today + timedelta(days=7), today + timedelta(days=120)
        span = {"room_type_id": "dbl", "date_from": first.isoformat(),
                "date_to": last.isoformat()}  # fmt: skip
        items: list[Json] = [
            {"type": "availability", **span, "availability": 5},
            {"type": "restrictions", **span, "rate_plan_id": "bar", "rate": "120.00"},
            {"type": "restrictions", **span, "rate_plan_id": "bar", "days": WEEKEND,
             "rate": "150.00", "min_stay_arrival": 2},
        ]  # fmt: skip
        accepted = await ok(await api.post("/v1/properties/p-1/ari", json={"items": items}))
        assert accepted["cells_changed"] == 2 * len(nights(first, last))
        cells: list[Json] = []

        async def all_in_sync() -> bool:
            params = {"from": first.isoformat(), "to": last.isoformat()}
            cells[:] = (await ok(await api.get("/v1/properties/p-1/ari", params=params)))["cells"]
            return bool(cells) and all(c["status"] == "in_sync" for c in cells)

        await poll(all_in_sync, "every cell in_sync")
        assert len(cells) == 2 * len(nights(first, last))

        held = (await ok(await tools.get("/ari", params={"property_id": cp})))["data"]
        weekend: dict[str, Any] = {"rate": "150.00", "min_stay_arrival": 2}
        for day in nights(first, last):
            on = day.isoformat()
            assert held["availability"][rt].get(on) == 5, on
            expected = weekend if WEEKDAYS[day.weekday()] in WEEKEND else {"rate": "120.00"}
            assert held["restrictions"][rp].get(on) == expected, on
        assert sum(WEEKDAYS[d.weekday()] in WEEKEND for d in nights(first, last)) >= 32

        # 5. a guest books on Booking.com; the booking reaches channel-sync by webhook
        arrival, departure = today + timedelta(days=10), today + timedelta(days=12)
        booked = await ok(
            await tools.post(
                f"/properties/{cp}/bookings",
                json={
                    "channel": "BookingCom",
                    "room_type_id": rt,
                    "rate_plan_id": rp,
                    "arrival_date": arrival.isoformat(),
                    "departure_date": departure.isoformat(),
                    "guest": {"name": "Ada", "surname": "Lovelace"},
                },
            )
        )
        revision_id = booked["data"]["revision_id"]
        feed: list[Json] = []

        async def in_the_feed_and_acked() -> bool:
            feed[:] = (await ok(await api.get("/v1/bookings/revisions")))["items"]
            return any(r["id"] == revision_id and r["acked_at"] for r in feed) and (
                state.store.revisions[revision_id].acked
            )

        await poll(in_the_feed_and_acked, "the booking in the PMS feed, acked in Channex")
        [revision] = feed
        assert (revision["booking_id"], revision["status"], revision["property_id"]) == (
            booked["data"]["booking_id"],
            "new",
            "p-1",
        )
        assert revision["flags"] == []
        [booked_room] = revision["revision"]["rooms"]
        assert (booked_room["pms_room_type_id"], booked_room["pms_rate_plan_id"]) == (
            "dbl",
            "bar",
        )
        assert revision["revision"]["customer"]["name"] == "Ada"
        # Channex took the booked nights' room itself: one fewer on each, none elsewhere.
        held = (await ok(await tools.get("/ari", params={"property_id": cp})))["data"]
        around = nights(arrival - timedelta(days=1), departure)
        assert [held["availability"][rt][d.isoformat()] for d in around] == [5, 4, 4, 5]


# The README block itself: portable, and readable when run. Commands GNU has and macOS (BSD)
# lacks or spells otherwise, `jq` (not installed on macOS), and what interactive zsh, the
# macOS default shell, reads differently from bash: `#` comments (interactive_comments is
# off) and unquoted `?` or `*` (a glob that fails with "no matches found").
NOT_PORTABLE = {
    r"\bdate\s+(-d|--date)\b": "GNU date -d",
    r"\bdate\s+-v": "BSD date -v",
    r"\bsed\s+(-i|--in-place)\b": "sed -i differs between GNU and BSD",
    r"\breadlink\s+-f\b": "GNU readlink -f",
    r"\bgrep\s+-\w*P": "GNU grep -P",
    r"\bxargs\s+-\w*r": "GNU xargs -r",
    r"\bstat\s+-c\b": "GNU stat -c",
    r"\bbase64\s+-w\b": "GNU base64 -w",
    r"\bsort\s+-\w*V": "GNU sort -V",
    r"\bhead\s+-n\s*-": "GNU head -n -N",
    r"\b(timeout|tac|seq)\s": "not installed on macOS",
    r"\bjq\b": "jq is not installed on macOS",
    r"\becho\s+-e\b": "echo -e is not portable",
    r"\$'": "$'...' is not POSIX sh",
    r"\[\[": "[[ is not POSIX sh",
}
WALKTHROUGH_PORT = "http://127.0.0.1:8000"
PRETTY = "| show"


def walkthrough_block() -> str:
    """The second sh block of the README's walk-through section (the first starts serve)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Try the whole flow on a laptop", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 2, "the walk-through has a serve block and a client block"
    return str(blocks[1])


def _unquoted(line: str) -> str:
    """The line without its single- and double-quoted parts (escaped quotes kept inside)."""
    return re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", "", line)


def test_the_walkthrough_uses_only_portable_shell() -> None:
    block = walkthrough_block()
    found = [why for pattern, why in NOT_PORTABLE.items() if re.search(pattern, block)]
    assert found == []
    # A quoted string may span lines (the JSON bodies): read the block as one text.
    bare = _unquoted(block)
    assert "#" not in bare, "no comments: interactive zsh runs them as commands"
    assert not re.search(r"[?*]", bare), "quote every ? and *: zsh globs them"


def test_every_answer_of_the_walkthrough_is_pretty_printed_or_kept() -> None:
    block = walkthrough_block()
    calls = block.count("curl -s")
    assert calls == block.count(PRETTY) + block.count("$(curl -s"), "an answer printed raw"
    assert block.count('echo "== ') >= 4, "a line says what each step does"


def json_documents(text: str) -> tuple[list[Any], str]:
    """The JSON documents in `text` and what is left between them; each must be exactly as
    `python3 -m json.tool` prints it (4-space indents), or it is left over."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    rest: list[str] = []
    at = 0
    while at < len(text):
        start = min((i for i in (text.find("{", at), text.find("[", at)) if i >= 0), default=-1)
        if start < 0:
            rest.append(text[at:])
            break
        rest.append(text[at:start])
        document, end = decoder.raw_decode(text, start)
        if text[start:end] != json.dumps(document, indent=4):
            rest.append(text[start:end])  # JSON, but not indented
        else:
            documents.append(document)
        at = end
    return documents, "".join(rest)


def shells() -> list[str]:
    """bash; sh, POSIX as macOS's /bin/sh runs it (dash here, stricter still); zsh if here."""
    return [shell for shell in ("bash", "sh", "zsh") if shutil.which(shell)]


@pytest.mark.parametrize("shell", shells())
async def test_the_readme_walkthrough_runs_as_printed_and_reads_well(
    shell: str, tmp_path: Path
) -> None:
    port = free_port()
    block = walkthrough_block()
    assert block.count(WALKTHROUGH_PORT) == 1
    script = block.replace(WALKTHROUGH_PORT, f"http://127.0.0.1:{port}")
    # Only what a newcomer's shell has: none of the suite's settings.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    cli = Path(sys.executable).parent / "channel-sync"
    with processes(tmp_path, env, tmp_path / "logs") as group:
        serve = group.start("serve", [cli, "serve", "--sandbox", "--port", str(port)])
        await wait_for_http(f"http://127.0.0.1:{port}/health/live", serve)
        run = await asyncio.to_thread(
            subprocess.run, [shell, "-c", script], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        # The session's URL opens the sandbox's channel iframe, once.
        [url] = re.findall(r'"url": "([^"]+)"', run.stdout)
        assert url.startswith(f"http://127.0.0.1:{port}/channex-sandbox/auth/exchange?")
        token = parse_qs(urlsplit(url).query)["oauth_session_key"][0]
        async with httpx.AsyncClient() as browser:
            assert (await browser.get(url)).status_code == 200
            assert (await browser.get(url)).status_code == 401
    assert run.stderr == ""
    logged = "".join(log.read_text() for log in (tmp_path / "logs").iterdir())
    # The session request and the two page loads were logged, without the token.
    assert "POST /v1/properties/{property_id}/channels/session 201" in logged
    assert "GET /auth/exchange 401" in logged
    assert token not in logged, "the one-time token reached serve's log"
    sections = re.split(r"^== (.*)\n", run.stdout, flags=re.MULTILINE)
    assert sections[0] == "", "the output starts by saying what the first step does"
    steps = dict(zip(sections[1::2], sections[2::2], strict=True))
    assert len(steps) == block.count('echo "== ')
    parsed = {title: json_documents(text) for title, text in steps.items()}
    leftovers = [rest.strip() for _, rest in parsed.values() if rest.strip()]
    [ids] = leftovers  # the one line that is not an answer
    uuid = "[0-9a-f-]{36}"
    assert re.fullmatch(f"Channex ids: property {uuid}, room type {uuid}, rate plan {uuid}", ids)
    assert all(documents for documents, _ in parsed.values()), "a step printed no answer"
    [feed] = next(docs for title, (docs, _) in parsed.items() if title.startswith("the PMS"))
    [revision] = feed["items"]
    assert (revision["status"], revision["property_id"], revision["flags"]) == ("new", "p-1", [])
    [room] = revision["revision"]["rooms"]
    assert (room["pms_room_type_id"], room["pms_rate_plan_id"]) == ("dbl", "bar")
    # No PERSONAL_DATA_KEYS: the guest's name is kept under the key `serve` generated into
    # its data directory (the working directory), not dropped.
    assert revision["revision"]["customer"]["name"] == "Ada"
    assert room["guests"][0]["name"] == "Ada"
    assert stat.S_IMODE((tmp_path / DEVELOPMENT_KEY_FILE).stat().st_mode) == 0o600
