"""Prometheus metrics for the App (GET /metrics): deliveries, jobs and their durations, the queue,
and the GitHub API — requests by method and status, and the rate limit left."""
from __future__ import annotations

import re
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """One set per app (a registry of its own, so several apps in one process never clash)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries = Counter("driftbot_deliveries", "Webhook deliveries by event and outcome",
                                  ["event", "outcome"], registry=r)
        self.jobs = Counter("driftbot_jobs", "Jobs run, by kind and outcome", ["kind", "outcome"], registry=r)
        self.job_seconds = Histogram("driftbot_job_duration_seconds", "Time a job took, by kind", ["kind"],
                                     buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600), registry=r)
        self.queue = Gauge("driftbot_queue_jobs", "Jobs waiting or running", registry=r)
        self.queue_age = Gauge("driftbot_queue_oldest_wait_seconds", "How long the oldest waiting job has waited",
                               registry=r)
        self.workers = Gauge("driftbot_workers_alive", "Workers running", registry=r)
        self.api = Counter("driftbot_github_requests", "GitHub API requests by method and status",
                           ["method", "status"], registry=r)
        self.rate_left = Gauge("driftbot_github_rate_limit_remaining",
                               "Requests left in the current rate-limit window (last response seen)",
                               ["resource"], registry=r)

    def observe_api(self, method: str, status: int, headers) -> None:
        self.api.labels(method.upper(), str(status)).inc()
        left = headers.get("x-ratelimit-remaining") if headers else None
        if left is not None and re.fullmatch(r"\d+", str(left)):
            self.rate_left.labels(headers.get("x-ratelimit-resource", "core")).set(int(left))

    def job_done(self, kind: str, outcome: str, started: float) -> None:
        self.jobs.labels(kind, outcome).inc()
        self.job_seconds.labels(kind).observe(time.monotonic() - started)

    def render(self, queue) -> bytes:
        self.queue.set(len(queue))
        self.queue_age.set(queue.oldest_age())
        self.workers.set(queue.alive)
        return generate_latest(self.registry)
