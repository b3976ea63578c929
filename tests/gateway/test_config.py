from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.config import ConfigError, load_settings

TOML = """
listen_port = 9001
retention = "fingerprints-only"
max_body_bytes = 2048
plugins = ["a.b:C"]
default_upstream = "big"

[upstreams.big]
url = "http://10.0.0.1:8000/"
api_key = "up-secret"
read_timeout_s = 30

[upstreams.small]
url = "https://small.example"
"""


def test_toml_then_env_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "dg.toml"
    path.write_text(TOML)
    env = {"DG_LISTEN_PORT": "9002", "DG_PLUGINS": "x.y:Z, q.r:S", "DG_RETENTION": "none"}
    s = load_settings(path, environ=env, overrides={"retention": "full", "listen_host": None})
    assert s.listen_port == 9002  # env beats the file
    assert s.retention == "full"  # explicit override beats env; None means "not given"
    assert s.plugins == ["x.y:Z", "q.r:S"]
    assert s.max_body_bytes == 2048
    assert s.upstream().url == "http://10.0.0.1:8000"  # trailing slash trimmed
    assert s.upstream("small").read_timeout_s == 600.0
    assert s.upstreams["big"].api_key == "up-secret"


def test_upstream_url_flag_creates_default_upstream() -> None:
    s = load_settings(None, environ={}, upstream_url="http://127.0.0.1:9000")
    assert s.upstream().url == "http://127.0.0.1:9000"
    s = load_settings(None, environ={"DG_UPSTREAM_URL": "http://h:1"})
    assert s.upstream().url == "http://h:1"


@pytest.mark.parametrize(
    "env,fragment",
    [
        ({"DG_RETENTION": "forever"}, "retention"),
        ({"DG_LISTEN_PORT": "eighty"}, "listen_port"),
        ({"DG_MAX_BODY_BYTES": "0"}, "max_body_bytes"),
        ({"DG_UPSTREAM_URL": "ftp://x"}, "http"),
    ],
)
def test_bad_settings_name_the_field(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(None, environ=env)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("listen_port = ")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(bad, environ={})
    two = tmp_path / "two.toml"
    two.write_text('default_upstream = "c"\n[upstreams.a]\nurl="http://a"\n[upstreams.b]\nurl="http://b"\n')
    with pytest.raises(ConfigError, match="default_upstream"):
        load_settings(two, environ={})
