"""Login CSRF (the login form's token, double submit) and flash messages in a signed cookie
rather than the URL."""

from __future__ import annotations

import httpx

from app.console.session import Signer
from app.settings import Settings
from tests.console.conftest import OPERATOR_KEY, csrf_of, log_in


async def test_a_login_post_without_the_forms_token_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    bare = await browser.post("/console/login", data={"key": OPERATOR_KEY})
    assert bare.status_code == 403
    assert "console_session" not in bare.cookies

    form = await browser.get("/console/login")
    token = csrf_of(form.text)
    assert "console_login" in form.cookies
    wrong = await browser.post("/console/login", data={"key": OPERATOR_KEY, "csrf": "guess"})
    assert wrong.status_code == 403
    assert "console_session" not in wrong.cookies

    # A forged page could post the right field, but not with the browser's signed cookie.
    browser.cookies.delete("console_login")
    cookieless = await browser.post("/console/login", data={"key": OPERATOR_KEY, "csrf": token})
    assert cookieless.status_code == 403

    first_tab = csrf_of((await browser.get("/console/login")).text)
    second_tab = csrf_of((await browser.get("/console/login")).text)
    assert first_tab == second_tab  # a second login tab does not void the first one's form
    assert (await log_in(browser)).status_code == 303  # the form first, then the POST
    assert (await browser.get("/console/")).status_code == 200


async def test_a_forged_login_cookie_does_not_pass(browser: httpx.AsyncClient) -> None:
    form = await browser.get("/console/login")
    token = csrf_of(form.text)
    session_like = (await log_in(browser)).cookies["console_session"]
    browser.cookies.clear()
    # The session cookie is signed too, but for another purpose: no login token.
    browser.cookies.set("console_login", session_like, path="/console/login")
    refused = await browser.post("/console/login", data={"key": OPERATOR_KEY, "csrf": token})
    assert refused.status_code == 403


async def test_a_flash_travels_in_a_cookie_and_shows_once(browser: httpx.AsyncClient) -> None:
    await log_in(browser)
    token = csrf_of((await browser.get("/console/bookings")).text)
    answer = await browser.post("/console/bookings/revisions/nope/replay", data={"csrf": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/bookings"  # nothing in the URL
    set_cookie = answer.headers["set-cookie"].lower()
    assert set_cookie.startswith("console_flash=")
    assert "httponly" in set_cookie
    assert "nope" not in set_cookie  # signed and encoded, not the text itself

    shown = await browser.get("/console/bookings")
    assert "Replay of nope failed" in shown.text
    again = await browser.get("/console/bookings")
    assert "Replay of nope failed" not in again.text


async def test_a_forged_flash_cookie_is_not_shown(browser: httpx.AsyncClient) -> None:
    await log_in(browser)
    browser.cookies.set("console_flash", "eyJ2IjoiaGkifQ.deadbeef", path="/console")
    page = await browser.get("/console/bookings")
    assert page.status_code == 200
    assert 'class="flash"' not in page.text


def test_a_sealed_value_expires_and_serves_only_its_purpose() -> None:
    signer = Signer(Settings(_env_file=None, database_url="sqlite+aiosqlite://"))
    sealed = signer.seal("flash", "hello", 60, now=1000.0)
    assert signer.unseal("flash", sealed, now=1059.0) == "hello"
    assert signer.unseal("flash", sealed, now=1061.0) is None  # expired
    assert signer.unseal("login", sealed, now=1001.0) is None  # another purpose
    cookie, _ = signer.issue("ops")
    assert signer.unseal("flash", cookie) is None  # a session is no flash
    assert signer.read(sealed, now=1001.0) is None  # nor a flash a session
