"""End to end: an analyst bans an account in the console mounted in the gateway, and the
gateway's enforcement refuses that account's next request (OpenAI SDK), then unbans."""

from __future__ import annotations

from pathlib import Path

import openai
from aiohttp.test_utils import TestClient, TestServer

from distillguard.accounts.principal import Principal
from distillguard.config import Settings, UpstreamSettings
from distillguard.console.app import mount_console
from distillguard.console.auth import Auth
from distillguard.console.standalone import live_console_data
from distillguard.console.state import StateDB
from distillguard.detect.engine import DistillGuardDetector
from distillguard.detect.online import OnlineDetector
from distillguard.detect.tierstore import MemoryTierStore
from distillguard.enforce.overrides import MemoryOverrideStore
from distillguard.enforce.stack import build_plugins
from distillguard.events.open import open_writer
from distillguard.gateway.app import create_app
from distillguard.gateway.auth import InMemoryKeyResolver
from distillguard.mock import start_mock

from .conftest import PASSWORD, login

KEY = "sk-console-e2e"
WHO = Principal(key_id="key_e2e", account_id="acct_e2e", org_id="org_e2e")


async def test_ban_from_the_console_blocks_at_the_edge(tmp_path: Path) -> None:
    mock = await start_mock()
    db = str(tmp_path / "events.db")
    sink = open_writer(db)
    tiers = MemoryTierStore()
    overrides = MemoryOverrideStore()
    runner = OnlineDetector(DistillGuardDetector(), tiers)
    keys = InMemoryKeyResolver()
    keys.add(KEY, WHO)
    settings = Settings(upstreams={"mock": UpstreamSettings(url=mock.url)}, default_upstream="mock")
    gateway = create_app(
        settings, sink=sink, key_resolver=keys, plugins=build_plugins(tiers, overrides=overrides)
    )
    state = StateDB(tmp_path / "console.db")
    Auth(state).create_user("ana", PASSWORD, role="analyst")
    data = live_console_data(db, runner, refresh_s=0)
    mount_console(gateway, data, state=state, overrides=overrides)

    async with TestClient(TestServer(gateway)) as client:
        sdk = openai.AsyncOpenAI(api_key=KEY, base_url=str(client.make_url("/v1")), max_retries=0)
        ok = await sdk.chat.completions.create(model="mock", messages=[{"role": "user", "content": "hi"}])
        assert ok.choices[0].message.content
        assert sink.flush(timeout=10)  # the gateway recorded the request

        csrf = await login(client, "ana")
        page = await client.get("/console/accounts/acct_e2e")  # the console tailed the log
        assert page.status == 200 and "acct_e2e" in await page.text()
        banned = await client.post(
            "/console/actions/ban", data={"account_id": "acct_e2e", "csrf": csrf}, allow_redirects=False
        )
        assert banned.status == 303

        try:
            await sdk.chat.completions.create(model="mock", messages=[{"role": "user", "content": "again"}])
            raise AssertionError("the banned account got through")
        except openai.PermissionDeniedError as exc:
            assert exc.status_code == 403

        unbanned = await client.post(
            "/console/actions/unban", data={"account_id": "acct_e2e", "csrf": csrf}, allow_redirects=False
        )
        assert unbanned.status == 303
        again = await sdk.chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "back"}]
        )
        assert again.choices[0].message.content
        await sdk.close()
    await mock.close()
    data.store.close()
