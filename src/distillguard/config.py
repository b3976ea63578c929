"""One `Settings` object for every distillguard process.

Sources, later ones win: built-in defaults -> a TOML file -> `DG_*` environment variables
-> explicit overrides (CLI flags). Keeping it one flat object (plus named upstreams) means
every component takes `settings` and nothing reads the environment on its own.

TOML shape::

    listen_host = "127.0.0.1"
    listen_port = 8080
    database_url = "sqlite:///distillguard.db"   # or postgresql://...
    retention = "full"                            # full | fingerprints-only | none
    max_body_bytes = 4194304
    plugins = ["distillguard.enforce.shadow:ShadowPlugin"]
    default_upstream = "local"

    [upstreams.local]
    url = "http://127.0.0.1:9000"
    api_key = ""                 # sent upstream as Bearer / x-api-key; client keys never are
    connect_timeout_s = 5.0
    read_timeout_s = 600.0

Environment: `DG_LISTEN_PORT=9090`, `DG_RETENTION=none`, `DG_UPSTREAM_URL=http://...`
(sets the default upstream's URL), `DG_PLUGINS=a.b:C,d.e:F`, ... (the upper-cased field name).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import msgspec

from distillguard.events.schema import Retention

RETENTIONS: tuple[str, ...] = get_args(Retention)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


class UpstreamSettings(msgspec.Struct, kw_only=True):
    url: str
    api_key: str = ""
    connect_timeout_s: float = 5.0
    # Longest silence allowed while waiting for bytes from the upstream (per read, not total:
    # a long generation that keeps streaming is fine).
    read_timeout_s: float = 600.0


class Settings(msgspec.Struct, kw_only=True):
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    database_url: str = "sqlite:///distillguard.db"  # events, keys and accounts; or postgresql://...
    retention: Retention = "full"
    max_body_bytes: int = 4 * 1024 * 1024
    upstreams: dict[str, UpstreamSettings] = msgspec.field(default_factory=dict)
    default_upstream: str = "default"
    plugins: list[str] = msgspec.field(default_factory=list)  # "module:Class" specs, run in order
    upstream_pool_size: int = 1000  # max open connections to all upstreams together
    # "http1" (default): the minimal keep-alive client in gateway/http1.py, measured to cost
    # about half the CPU per request of "aiohttp" (ClientSession; HTTP proxies, see
    # docs/gateway.md).
    upstream_client: Literal["aiohttp", "http1"] = "http1"
    # Client request headers passed to the upstream, by prefix (case-insensitive). Auth,
    # hop-by-hop and body headers never are; the gateway sets its own.
    forward_header_prefixes: list[str] = msgspec.field(default_factory=lambda: ["anthropic-", "openai-"])
    # Trust X-Forwarded-For for the client IP (only behind a proxy you control).
    trust_forwarded_for: bool = False
    # --- the full stack (distillguard.stack): detection, enforcement, console ------------
    detect: bool = True  # run the detector in-process, fed by the event sink
    enforce: bool = True  # mount the enforcement plugins (decide, gate, harden, limits, ...)
    shadow: bool = False  # global shadow mode: decide and record every action, enforce none
    console: bool = True  # mount the analyst console at /console
    policy_file: str = ""  # enforcement policy TOML; "" = the packaged default policy
    detector_config: str = ""  # calibrated DetectorConfig file; "" = built-in defaults
    tier_store_url: str = "memory://"  # or redis://... / postgresql://... (shared by replicas)
    ratelimit_url: str = ""  # "" = in-process limits; redis://... for several replicas
    ratelimit_fail_open: bool = True  # limiter backend down: admit (and record) vs 503
    overrides_db: str = ""  # manual overrides SQLite file; "" = next to the event log
    assess_interval_s: float = 5.0  # seconds between the in-process detector's assessments
    # "process": fingerprints, the event log writer and the detector run in a child process
    # (one per gateway process, gateway/sidecar.py), off the gateway's CPU and GIL;
    # "thread": all of it inside the gateway process (the demo's compressed clock needs it).
    event_pipeline: Literal["process", "thread"] = "process"

    def upstream(self, name: str | None = None) -> UpstreamSettings:
        key = name or self.default_upstream
        try:
            return self.upstreams[key]
        except KeyError:
            raise ConfigError(f"no upstream named {key!r}; configured: {sorted(self.upstreams)}") from None

    def validate(self) -> Settings:
        if self.retention not in RETENTIONS:
            raise ConfigError(f"retention must be one of {RETENTIONS}, got {self.retention!r}")
        if self.max_body_bytes <= 0:
            raise ConfigError("max_body_bytes must be positive")
        if self.upstreams and self.default_upstream not in self.upstreams:
            if len(self.upstreams) == 1:
                self.default_upstream = next(iter(self.upstreams))
            else:
                raise ConfigError(
                    f"default_upstream {self.default_upstream!r} is not one of {sorted(self.upstreams)}"
                )
        for name, up in self.upstreams.items():
            if not up.url.startswith(("http://", "https://")):
                raise ConfigError(f"upstream {name!r}: url must start with http:// or https://")
            up.url = up.url.rstrip("/")
        return self


_ENV_PREFIX = "DG_"
_LIST_FIELDS = {"plugins", "forward_header_prefixes"}


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    scalar_fields = set(Settings.__struct_fields__) - {"upstreams"}
    for field in scalar_fields:
        raw = environ.get(_ENV_PREFIX + field.upper())
        if raw is None and field == "database_url":
            raw = environ.get("DG_DATABASE")  # the name the other commands' --db default reads
        if raw is None:
            continue
        if field in _LIST_FIELDS:
            out[field] = [p.strip() for p in raw.split(",") if p.strip()]
        else:
            out[field] = raw
    return out


def load_settings(
    config_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    upstream_url: str | None = None,
) -> Settings:
    """Defaults -> TOML -> DG_* env -> overrides. `upstream_url` (the CLI's --upstream, or
    DG_UPSTREAM_URL) sets the default upstream's URL, creating it if needed."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if config_file is not None:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    data.update(_env_overrides(environ))
    if overrides:
        data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        # strict=False lets env strings ("8080", "true") convert to ints/bools.
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid settings: {exc}") from None
    url = upstream_url or environ.get(_ENV_PREFIX + "UPSTREAM_URL")
    if url:
        name = settings.default_upstream
        if name in settings.upstreams:
            settings.upstreams[name].url = url
        else:
            settings.upstreams[name] = UpstreamSettings(url=url)
    return settings.validate()
