"""Console pages and action endpoints. Page models are built off the event loop (threads):
folding new events, plotting and graph layout take tens of milliseconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from aiohttp import web

from distillguard.console.actions import ActionError
from distillguard.console.auth import Session
from distillguard.console.graph import campaign_graph_svg
from distillguard.console.plots import COLORS, line_chart
from distillguard.detect.api import Tier

if TYPE_CHECKING:
    from distillguard.console.app import Console

T = TypeVar("T")
SORTS = ("risk", "volume", "harvest", "reasons", "account")
MESSAGES = {
    "confirm": "Flag confirmed: labelled attack.",
    "dismiss": "Flag dismissed: labelled legitimate.",
    "tier": "Override tier set.",
    "ban": "Banned: the gateway blocks these accounts.",
    "unban": "Override removed: the detector decides again.",
}


def _console(request: web.Request) -> Console:
    from distillguard.console.app import CONSOLE_KEY

    return request.app[CONSOLE_KEY]


def _scope(request: web.Request) -> str | None:
    session: Session = request["session"]
    return session.user.org_id


async def _off_loop(console: Console, fn: Callable[[], T]) -> T:
    def run() -> T:
        with console.data.lock:  # one page at a time reads the index, never while it is folded
            console.data.refresh()
            return fn()

    return await asyncio.to_thread(run)


def _not_found(console: Console, request: web.Request, what: str) -> web.Response:
    return console.render("error.html", request, status=404, title="Not found", message=f"No {what} here.")


def _message(request: web.Request) -> str:
    return MESSAGES.get(request.query.get("done", ""), "")


# ---- pages ---------------------------------------------------------------------------------
async def overview(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    scope = _scope(request)

    def build() -> dict[str, Any]:
        o = console.data.overview(scope)
        traffic = line_chart(
            [
                ("requests", o.traffic, COLORS["traffic"]),
                ("enforced actions", o.actions, COLORS["actions"]),
                ("shadow decisions", o.shadow, COLORS["shadow"]),
            ],
            title="Traffic and actions per hour",
        )
        flags = line_chart(
            [("accounts flagged", o.flags, COLORS["flags"])], title="Accounts reaching SUSPECT per hour"
        )
        return {"o": o, "traffic_svg": traffic, "flags_svg": flags}

    def cached() -> dict[str, Any]:
        # the plots cost ~0.5 s each; the overview is the page people reload most
        key = (scope, console.data.index.events, console.data.assessment().at)
        hit = console.page_cache.get(key)
        if hit is None:
            hit = build()
            if len(console.page_cache) >= 16:
                console.page_cache.clear()
            console.page_cache[key] = hit
        return dict(hit)

    ctx = await _off_loop(console, cached)
    ctx["audit"] = console.labels.audit_log(org_id=scope, exclude_actions=("login",), limit=10)
    return console.render("overview.html", request, active="overview", **ctx)


async def accounts(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    scope = _scope(request)
    sort = request.query.get("sort", "risk")
    sort = sort if sort in SORTS else "risk"
    flagged = request.query.get("flagged", "1") == "1"

    def build() -> dict[str, Any]:
        rows = console.data.account_rows(scope, sort=sort, flagged_only=flagged, limit=500)
        return {"rows": rows}

    ctx = await _off_loop(console, build)
    ctx["labels"] = console.labels.labels([r.account_id for r in ctx["rows"]])
    return console.render(
        "accounts.html", request, active="accounts", sort=sort, flagged=flagged, sorts=SORTS, **ctx
    )


async def account(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    scope = _scope(request)
    account_id = request.match_info["account_id"]

    def build() -> dict[str, Any] | None:
        view = console.data.account(account_id, scope)
        if view is None:
            return None
        timeline = line_chart(
            [("requests", view.timeline, COLORS["traffic"])],
            title="Requests per hour",
            marker_at=view.row.first_flagged,
            marker_label="flagged",
        )
        return {"v": view, "timeline_svg": timeline}

    ctx = await _off_loop(console, build)
    if ctx is None:
        return _not_found(console, request, "account")
    ctx["label"] = console.labels.get(account_id)
    ctx["override"] = console.actions.override_of(account_id)
    ctx["audit"] = console.labels.audit_log(subject_ids=[account_id], limit=50)
    return console.render(
        "account.html", request, active="accounts", message=_message(request), tiers=list(Tier), **ctx
    )


async def campaigns(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    scope = _scope(request)
    rows = await _off_loop(console, lambda: console.data.campaign_rows(scope))
    return console.render("campaigns.html", request, active="campaigns", rows=rows)


async def campaign(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    scope = _scope(request)
    campaign_id = request.match_info["campaign_id"]

    def build() -> dict[str, Any] | None:
        view = console.data.campaign(campaign_id, scope)
        if view is None:
            return None
        marker = view.flag.first_flagged
        return {
            "v": view,
            "graph_svg": campaign_graph_svg(view.members, view.edges, href=f"{console.prefix}/accounts/"),
            "timeline_svg": line_chart(
                [("requests", view.timeline, COLORS["traffic"])],
                title="Requests per hour (all members)",
                marker_at=marker,
                marker_label="flagged",
            ),
            "harvest_svg": line_chart(
                [("completion tokens", view.harvest_timeline, COLORS["tokens"])],
                title="Harvest: completion tokens served per hour",
                marker_at=marker,
                marker_label="flagged",
            ),
        }

    ctx = await _off_loop(console, build)
    if ctx is None:
        return _not_found(console, request, "campaign")
    members = [m.account_id for m in ctx["v"].members]
    ctx["labels"] = console.labels.labels(members)
    ctx["audit"] = console.labels.audit_log(subject_ids=[campaign_id, *members], org_id=scope, limit=50)
    return console.render("campaign.html", request, active="campaigns", message=_message(request), **ctx)


async def search(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    scope = _scope(request)
    query = request.query.get("q", "")[:200]
    hits = await _off_loop(console, lambda: console.data.search(query, scope))
    return console.render("search.html", request, active="search", query=query, hits=hits)


async def audit(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    entries = console.labels.audit_log(org_id=_scope(request), limit=500)
    return console.render("audit.html", request, active="audit", entries=entries)


# ---- evidence downloads ----------------------------------------------------------------------
async def evidence(request: web.Request) -> web.StreamResponse:
    from distillguard.console import evidence as ev
    from distillguard.console.stix import campaign_bundle

    console = _console(request)
    scope = _scope(request)
    campaign_id = request.match_info["campaign_id"]
    fmt = request.match_info["fmt"]

    def build() -> tuple[str, str] | None:
        view = console.data.campaign(campaign_id, scope, examples=10)
        if view is None:
            return None
        if fmt == "stix.json":
            return campaign_bundle(view).serialize(pretty=True), "application/json"
        report = ev.build_evidence(view, console.data)
        if fmt == "report.md":
            return ev.render_markdown(report), "text/markdown"
        return ev.render_html(report), "text/html"

    built = await _off_loop(console, build)
    if built is None:
        return _not_found(console, request, "campaign")
    body, ctype = built
    name = f"{campaign_id}-{fmt}"
    disposition = "inline" if fmt == "report.html" else f'attachment; filename="{name}"'
    return web.Response(text=body, content_type=ctype, headers={"Content-Disposition": disposition})


async def labels_export(request: web.Request) -> web.StreamResponse:
    """The labels as calibrate reads them (admins only: they span every org)."""
    import json

    console = _console(request)
    session: Session = request["session"]
    if session.user.role != "admin":
        return console.render("error.html", request, status=403, title="Forbidden", message="Admins only.")
    rows = sorted(console.labels.labels().values(), key=lambda lb: lb.account_id)
    body = "".join(
        json.dumps({"account_id": lb.account_id, "label": lb.label, "by": lb.by, "at": lb.at}) + "\n"
        for lb in rows
    )
    return web.Response(
        text=body,
        content_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="labels.jsonl"'},
    )


# ---- actions (POST, CSRF checked by the middleware) --------------------------------------------
def _field(request: web.Request, name: str) -> str:
    value = request["form"].get(name, "")
    return value.strip()[:500] if isinstance(value, str) else ""


async def act(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    session: Session = request["session"]
    user = session.user
    what = request.match_info["action"]
    account_id = _field(request, "account_id")
    campaign_id = _field(request, "campaign_id")
    note = _field(request, "note")

    def targets() -> list[str]:
        if campaign_id:
            view = console.data.campaign(campaign_id, user.org_id)
            if view is None:
                raise ActionError("no such campaign")
            return [m.account_id for m in view.members]
        if not account_id or console.data.account(account_id, user.org_id, samples=0) is None:
            raise ActionError("no such account")
        return [account_id]

    def run() -> None:
        ids = targets()
        if what in ("confirm", "dismiss"):
            console.actions.label(
                user,
                ids,
                "attack" if what == "confirm" else "legit",
                campaign_id=campaign_id or None,
                note=note,
            )
        elif what == "tier":
            console.actions.set_tier(user, ids[0], _field(request, "tier"), note=note)
        elif what == "ban":
            console.actions.ban(user, ids, note=note, campaign_id=campaign_id or None)
        elif what == "unban":
            console.actions.unban(user, ids[0], note=note)
        else:
            raise ActionError(f"unknown action {what!r}")

    try:
        await _off_loop(console, run)
    except ActionError as exc:
        return console.render("error.html", request, status=403, title="Action refused", message=str(exc))
    back = (
        f"{console.prefix}/campaigns/{quote(campaign_id)}"
        if campaign_id
        else f"{console.prefix}/accounts/{quote(account_id)}"
    )
    raise web.HTTPSeeOther(f"{back}?done={what}")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", overview)
    router.add_get("/accounts", accounts)
    router.add_get("/accounts/{account_id}", account)
    router.add_get("/campaigns", campaigns)
    router.add_get("/campaigns/{campaign_id}", campaign)
    router.add_get(r"/campaigns/{campaign_id}/{fmt:report\.md|report\.html|stix\.json}", evidence)
    router.add_get("/search", search)
    router.add_get("/audit", audit)
    router.add_get("/labels.jsonl", labels_export)
    router.add_post(r"/actions/{action:confirm|dismiss|tier|ban|unban}", act)
