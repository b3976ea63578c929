"""The analyst console as an aiohttp sub-application (mounted under /console).

`create_console_app(data, state_path=..., overrides=...)` builds it; `mount_console(app, ...)`
adds it to the gateway's application; `standalone_app(console)` wraps it for
`distillguard console`. Every route but /login and /static needs a session; every POST
needs the session's CSRF token. Pages are server-rendered Jinja2 with inline SVG plots and
no JavaScript at all (the Content-Security-Policy forbids scripts).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web

from distillguard.console import pages
from distillguard.console.actions import ActionError, Actions
from distillguard.console.auth import Auth, Session, check_csrf
from distillguard.console.data import ConsoleData
from distillguard.console.labels import LabelStore
from distillguard.console.state import StateDB
from distillguard.detect.api import Tier
from distillguard.enforce.overrides import OverrideStore

CONSOLE_KEY: web.AppKey[Console] = web.AppKey("distillguard_console")
SESSION_COOKIE = "dg_console_session"
LOGIN_CSRF_COOKIE = "dg_console_login"
DEFAULT_PREFIX = "/console"
STATIC_DIR = Path(__file__).parent / "static"
PUBLIC = ("/login", "/static/")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LOGIN_FAILURES_ALLOWED = 5
LOGIN_LOCKOUT_S = 300.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Console:
    """Everything a request handler needs: data, auth, labels, actions, templates."""

    def __init__(
        self,
        data: ConsoleData,
        state: StateDB,
        overrides: OverrideStore | None,
        *,
        prefix: str = DEFAULT_PREFIX,
        secure_cookies: bool = False,
    ) -> None:
        self.data = data
        self.state = state
        self.auth = Auth(state)
        self.labels = LabelStore(state)
        self.actions = Actions(self.labels, overrides, data.org_of)
        self.prefix = prefix.rstrip("/")
        self.secure_cookies = secure_cookies
        self.failures: dict[str, list[float]] = {}
        self.page_cache: dict[tuple[Any, ...], dict[str, Any]] = {}  # the overview, for one key
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("distillguard.console", "templates"),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            undefined=jinja2.StrictUndefined,
        )
        self.templates.globals.update(base=self.prefix, Tier=Tier, tier_name=tier_name)
        self.templates.filters.update(ts=fmt_ts, num=fmt_num, q=quote, pct=fmt_pct)

    def render(self, name: str, request: web.Request, status: int = 200, **context: Any) -> web.Response:
        session: Session | None = request.get("session")
        context.setdefault("user", session.user if session else None)
        context.setdefault("csrf", session.csrf if session else "")
        context.setdefault("path", request.path)
        for name_ in ("active", "message", "query"):
            context.setdefault(name_, "")
        html = self.templates.get_template(name).render(**context)
        return web.Response(text=html, content_type="text/html", status=status)

    def cookie(self, response: web.StreamResponse, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            path=self.prefix + "/",
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookies,
            max_age=max_age,
        )

    # --- login throttling (per username, in memory) ---------------------------------------
    def locked_out(self, username: str, now: float) -> bool:
        recent = [t for t in self.failures.get(username, []) if now - t < LOGIN_LOCKOUT_S]
        self.failures[username] = recent
        return len(recent) >= LOGIN_FAILURES_ALLOWED

    def failed(self, username: str, now: float) -> None:
        self.failures.setdefault(username, []).append(now)
        if len(self.failures) > 10_000:  # bounded: forget the oldest usernames
            for key in list(self.failures)[:5_000]:
                del self.failures[key]


def tier_name(tier: int) -> str:
    return Tier(int(tier)).name


def fmt_ts(value: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not value:
        return "—"
    return datetime.fromtimestamp(value, UTC).strftime(fmt) + " UTC"


def fmt_num(value: float | int | None) -> str:
    if value is None:
        return "—"
    value = float(value)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def fmt_pct(value: float) -> str:
    return f"{100 * value:.0f}%"


# ---- middleware ----------------------------------------------------------------------------
@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    console: Console = request.app[CONSOLE_KEY]
    rel = request.path[len(console.prefix) :] or "/"
    if not rel.startswith(PUBLIC):
        session = console.auth.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            if request.method == "GET":
                raise web.HTTPSeeOther(f"{console.prefix}/login?next={quote(request.path_qs)}")
            raise web.HTTPForbidden(text="Not logged in.")
        request["session"] = session
        if request.method == "POST":
            await check_post(request, session.csrf)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


async def check_post(request: web.Request, expected: str) -> None:
    """Same-origin and a matching CSRF token, or 403."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise web.HTTPForbidden(text="Cross-origin form post refused.")
    form = await request.post()
    request["form"] = form
    given = form.get("csrf")
    if not check_csrf(expected, given if isinstance(given, str) else None):
        raise web.HTTPForbidden(text="Missing or wrong CSRF token: reload the page and try again.")


# ---- handlers: login ----------------------------------------------------------------------
def _safe_next(console: Console, target: str | None) -> str:
    home = console.prefix + "/"
    if not target or not target.startswith(home) or target.startswith("//") or "\\" in target:
        return home
    return target


async def login_page(request: web.Request) -> web.StreamResponse:
    console: Console = request.app[CONSOLE_KEY]
    token = secrets.token_urlsafe(24)
    response = console.render(
        "login.html", request, login_csrf=token, next=_safe_next(console, request.query.get("next")), error=""
    )
    console.cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    console: Console = request.app[CONSOLE_KEY]
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = form.get("csrf")
    if not expected or not check_csrf(expected, given if isinstance(given, str) else None):
        raise web.HTTPForbidden(text="Login form expired or forged: reload the login page.")
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(console, str(form.get("next", "")))
    now = time.time()
    user = None
    if not console.locked_out(username, now):
        user = await asyncio.to_thread(console.auth.authenticate, username, password)
    if user is None:
        console.failed(username, now)
        response = console.render(
            "login.html",
            request,
            status=401,
            login_csrf=expected,
            next=target,
            error="Wrong username or password (or too many attempts: wait five minutes).",
        )
        return response
    cookie, _session = console.auth.start_session(user)
    response = web.HTTPSeeOther(target)
    console.cookie(response, SESSION_COOKIE, cookie, max_age=int(console.auth.session_ttl_s))
    response.del_cookie(LOGIN_CSRF_COOKIE, path=console.prefix + "/")
    console.labels.audit(user.username, "login", "user", user.username, org_id=user.org_id)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    console: Console = request.app[CONSOLE_KEY]
    console.auth.end_session(request.cookies.get(SESSION_COOKIE))
    response = web.HTTPSeeOther(f"{console.prefix}/login")
    response.del_cookie(SESSION_COOKIE, path=console.prefix + "/")
    return response


# ---- construction -------------------------------------------------------------------------
def create_console_app(
    data: ConsoleData,
    *,
    state: StateDB | str | Path,
    overrides: OverrideStore | None = None,
    prefix: str = DEFAULT_PREFIX,
    secure_cookies: bool = False,
) -> web.Application:
    """The console sub-application; mount it at `prefix` (see `mount_console`)."""
    db = state if isinstance(state, StateDB) else StateDB(state)
    console = Console(data, db, overrides, prefix=prefix, secure_cookies=secure_cookies)
    app = web.Application(middlewares=[security_middleware])
    app[CONSOLE_KEY] = console
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    pages.add_routes(app.router)

    async def on_cleanup(app: web.Application) -> None:
        if not isinstance(state, StateDB):
            db.close()

    app.on_cleanup.append(on_cleanup)
    return app


def mount_console(
    parent: web.Application,
    data: ConsoleData,
    *,
    state: StateDB | str | Path,
    overrides: OverrideStore | None = None,
    prefix: str = DEFAULT_PREFIX,
    secure_cookies: bool = False,
) -> web.Application:
    """Add the console to an existing aiohttp app (the gateway) under `prefix`/.

    Works after the gateway's catch-all route: aiohttp resolves sub-app prefixes first.
    Returns the console sub-application.
    """
    console_app = create_console_app(
        data, state=state, overrides=overrides, prefix=prefix, secure_cookies=secure_cookies
    )
    parent.add_subapp(prefix.rstrip("/"), console_app)
    return console_app


def standalone_app(console_app: web.Application, prefix: str = DEFAULT_PREFIX) -> web.Application:
    """A root app serving only the console (at `prefix`/, with / redirecting there)."""
    root = web.Application()

    async def home(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(prefix.rstrip("/") + "/")

    root.router.add_get("/", home)
    root.router.add_get(prefix.rstrip("/"), home)
    root.add_subapp(prefix.rstrip("/"), console_app)
    return root


def console_of(app: web.Application) -> Console:
    return app[CONSOLE_KEY]


__all__ = [
    "CONSOLE_KEY",
    "ActionError",
    "Console",
    "create_console_app",
    "mount_console",
    "standalone_app",
]
