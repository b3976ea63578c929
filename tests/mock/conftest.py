from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from distillguard.mock.server import MockServer, run_mock_in_thread


@pytest.fixture(scope="package")
def mock_server() -> Iterator[MockServer]:
    with run_mock_in_thread() as server:
        yield server


@pytest.fixture(scope="package")
def oai(mock_server: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock_server.openai_base_url, api_key="sk-test", max_retries=0)


@pytest.fixture(scope="package")
def claude(mock_server: MockServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=mock_server.url, api_key="sk-ant-test", max_retries=0)


class RawResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.content = body
        self.text = body.decode()

    def json(self) -> Any:
        return json.loads(self.content)


def raw_request(
    url: str, method: str = "POST", body: bytes | None = None, headers: dict[str, str] | None = None
) -> RawResponse:
    """A plain HTTP call, for checking bytes on the wire that SDKs would hide."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(
            method, parts.path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        resp = conn.getresponse()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


@pytest.fixture(scope="package")
def raw() -> Any:
    return raw_request
