"""Prometheus metrics for one gateway app (own registry, so several apps can live in a test)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "distillguard_requests",
            "Requests handled, by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "distillguard_request_duration_seconds",
            "Time from request received to response finished.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.first_byte = Histogram(
            "distillguard_time_to_first_byte_seconds",
            "Time from request received to the first upstream byte.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "distillguard_upstream_errors",
            "Upstream failures: connect, timeout, protocol, or HTTP >= 500.",
            ["upstream", "kind"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "distillguard_rejections",
            "Requests a plugin stopped before the upstream call.",
            ["plugin", "status"],
            registry=self.registry,
        )

        # labels() costs a lock and a tuple per call; the label sets are few, so keep children.
        self._children: dict[tuple[str, int], tuple[Any, Any, Any]] = {}

    def observe(self, endpoint: str, status: int, seconds: float, first_byte_s: float | None) -> None:
        children = self._children.get((endpoint, status))
        if children is None:
            children = (
                self.requests.labels(endpoint, str(status)),
                self.latency.labels(endpoint),
                self.first_byte.labels(endpoint),
            )
            self._children[(endpoint, status)] = children
        requests, latency, first_byte = children
        requests.inc()
        latency.observe(seconds)
        if first_byte_s is not None:
            first_byte.observe(first_byte_s)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
