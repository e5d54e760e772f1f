"""Turn recorded events into OpenTelemetry metrics, spans and log events, and
send them over OTLP/HTTP.

This module imports the OpenTelemetry SDK (about 150 ms), so only a delivery
loads it. Each delivery builds its own providers with in-memory readers,
collects what it recorded, and hands the result to the official OTLP exporter,
whose answer decides whether the batch counts as delivered.

Metrics use delta temporality: every short-lived `cs` process reports only what
it sends, stamped with the time of the calls themselves, so a backfill lands
on the right days.
"""

import dataclasses
import hashlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind

from cs_core import Event, __version__

from . import config as settings

SCOPE = "codesession"
# The bucket boundaries the GenAI semantic conventions advise for token counts.
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
    16777216, 67108864,
)  # fmt: skip
# Long lists on one span stay readable and within collector limits.
MAX_LISTED = 200
# After a failed export, the other signals of the same delivery skip the
# collector instead of each waiting out its own timeout.
DOWN_FOR_S = 5.0
_down: dict[str, tuple[float, str]] = {}
# After an ordinary command one request may take this long at most. The SDK
# retries a refused connection after a back-off of at least 0.8 s, but only if
# the time left allows it, so this cap also turns that wait off: the outbox and
# its own back-off do the retrying. An explicit flush lifts the cap.
REQUEST_CAP_S = 0.75
_patient = False


def be_patient() -> None:
    """For an explicit flush: retry within the time given, try failed collectors."""
    global _patient
    _patient = True
    _down.clear()


class ExportError(Exception):
    """The collector did not accept a batch."""


def export(signal: str, events: Sequence[Event], timeout_s: float) -> None:
    """Send one signal's view of a batch of events.

    Args:
        signal: `metrics`, `traces` or `logs`.
        events: The batch, oldest first.
        timeout_s: The time left; the exporter gives up after it.

    Raises:
        ExportError: The collector is unreachable or refused the batch.
    """
    _quiet_sdk()
    config = settings.read_config()
    base, url = settings.endpoint(config), settings.signal_url(config, signal)
    since, why = _down.get(base, (0.0, ""))
    if time.monotonic() - since < DOWN_FOR_S:
        raise ExportError(f"collector at {base} is unreachable: {why}")
    resource = build_resource(config)
    started = time.monotonic()
    limit = timeout_s if _patient else min(timeout_s, REQUEST_CAP_S)
    ok = _EXPORTS[signal](events, resource, url, max(limit, 0.05))
    if not ok:
        elapsed = time.monotonic() - started
        _down[base] = (
            time.monotonic(),
            f"{signal} export failed after {elapsed:.1f} s",
        )
        raise ExportError(f"collector at {url} did not accept {len(events)} events")


def _quiet_sdk() -> None:
    """Keep the SDK's own error lines off stderr, which is the user's.

    The export result already says what failed, and `cs otel status` shows it;
    with CS_LOG=debug the lines still reach the debug handler.
    """
    sdk_log = logging.getLogger("opentelemetry")
    if not sdk_log.handlers:
        sdk_log.addHandler(logging.NullHandler())
    sdk_log.propagate = logging.getLogger().isEnabledFor(logging.DEBUG)


def build_resource(config: Mapping[str, Any]) -> Resource:
    """Return the resource: service, team, user and host, then `OTEL_*`."""
    defaults = {
        "service.name": settings.SERVICE_NAME,
        "service.version": __version__,
        **settings.identity(dict(config)),
    }
    return Resource.create(defaults).merge(OTELResourceDetector().detect())


def _nanos(stamp: str | None) -> int:
    """Return an instant in Unix nanoseconds; now when it cannot be read.

    Rows from old databases may hold odd timestamps, and one unreadable event
    must not block the queue behind it forever.
    """
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return time.time_ns()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000) * 1000


def _export_metrics(
    events: Sequence[Event], resource: Resource, url: str, timeout_s: float
) -> bool:
    delta = AggregationTemporality.DELTA
    reader = InMemoryMetricReader(
        preferred_temporality={Counter: delta, Histogram: delta}
    )
    provider = MeterProvider(
        resource=resource, metric_readers=[reader], shutdown_on_exit=False
    )
    meter = provider.get_meter(SCOPE, __version__)
    instruments = {
        "tokens": meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Tokens used by an AI call, by token type.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        ),
        "cost": meter.create_counter(
            "codesession.cost", unit="USD", description="What AI calls cost."
        ),
    }
    collected: list[Any] = []
    for group in _by_minute(events):
        for event in group:
            _measure(instruments, event.payload)
        data = reader.get_metrics_data()
        if data is not None:
            first, last = group[0].payload, group[-1].payload
            start = _nanos(first["timestamp"])
            end = max(_nanos(last["timestamp"]), start) + 1_000_000
            collected.extend(_stamped(data, start, end).resource_metrics)
    if not collected:
        return True
    exporter = OTLPMetricExporter(endpoint=url, timeout=timeout_s)
    try:
        result = exporter.export(
            MetricsData(resource_metrics=collected), timeout_millis=timeout_s * 1000
        )
    finally:
        exporter.shutdown()
    return result is MetricExportResult.SUCCESS


def _by_minute(events: Sequence[Event]) -> Iterator[list[Event]]:
    """Group calls by the minute they were made in, oldest first."""
    ordered = sorted(events, key=lambda event: event.payload["timestamp"])
    group: list[Event] = []
    for event in ordered:
        if (
            group
            and event.payload["timestamp"][:16] != group[0].payload["timestamp"][:16]
        ):
            yield group
            group = []
        group.append(event)
    if group:
        yield group


def _stamped(data: MetricsData, start: int, end: int) -> MetricsData:
    """Give every data point the interval of the calls it counts."""

    def metric(item: Any) -> Any:
        points = [
            dataclasses.replace(p, start_time_unix_nano=start, time_unix_nano=end)
            for p in item.data.data_points
        ]
        return dataclasses.replace(
            item, data=dataclasses.replace(item.data, data_points=points)
        )

    return MetricsData(
        resource_metrics=[
            dataclasses.replace(
                rm,
                scope_metrics=[
                    dataclasses.replace(sm, metrics=[metric(m) for m in sm.metrics])
                    for sm in rm.scope_metrics
                ],
            )
            for rm in data.resource_metrics
        ]
    )


def call_attributes(call: Mapping[str, Any]) -> dict[str, Any]:
    """Return the attributes every signal of a call shares."""
    session = call.get("session") or {}
    found: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": call["provider"],
        "gen_ai.system": call["provider"],
        "gen_ai.request.model": call.get("model_requested") or call["model"],
        "gen_ai.response.model": call["model"],
        "codesession.session.id": call["session_id"],
    }
    if call.get("agent_name"):
        found["gen_ai.agent.name"] = call["agent_name"]
    if session.get("project_root"):
        found["codesession.project"] = session["project_root"]
    return found


def token_counts(call: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """Return a call's token counts as (GenAI type, cs type, count).

    Input and output are what the provider reported; a bare total is split as
    it was priced (70 % input). Cache and reasoning counts follow with the
    GenAI type they belong to and their own `codesession.token.type`.
    """
    prompt, completion = call.get("prompt_tokens"), call.get("completion_tokens")
    if call.get("estimated") or (prompt is None and completion is None):
        total = call.get("tokens") or 0
        prompt = int(total * 7 // 10)
        completion = total - prompt
    counts = [("input", "input", prompt or 0), ("output", "output", completion or 0)]
    for key, kind, gen_ai in (
        ("cache_read_tokens", "cache_read", "input"),
        ("cache_write_tokens", "cache_write", "input"),
        ("cache_write_1h_tokens", "cache_write_1h", "input"),
        ("reasoning_tokens", "reasoning", "output"),
    ):
        if call.get(key):
            counts.append((gen_ai, kind, call[key]))
    return counts


def _measure(instruments: dict[str, Any], call: Mapping[str, Any]) -> None:
    shared = call_attributes(call)
    for gen_ai, kind, count in token_counts(call):
        attributes = {
            **shared,
            "gen_ai.token.type": gen_ai,
            "codesession.token.type": kind,
        }
        instruments["tokens"].record(count, attributes)
    if call.get("cost") is not None:
        instruments["cost"].add(float(call["cost"]), shared)


class _SessionIds(IdGenerator):
    """Trace and span ids derived from the session, so a resend is recognisable."""

    def __init__(self) -> None:
        self.seed = b""

    def generate_trace_id(self) -> int:
        return int.from_bytes(hashlib.sha256(self.seed).digest()[:16], "big") or 1

    def generate_span_id(self) -> int:
        return int.from_bytes(hashlib.sha256(self.seed).digest()[16:24], "big") or 1


def session_attributes(session: Mapping[str, Any]) -> dict[str, Any]:
    """Return a finished session's span attributes: what it did and cost."""
    files = [item["file_path"] for item in session.get("file_changes") or []]
    commits = [item["hash"] for item in session.get("commit_log") or []]
    found: dict[str, Any] = {
        "codesession.session.id": session["id"],
        "codesession.session.name": session["name"],
        "codesession.project": session.get("project_root") or session.get("scope"),
        "codesession.end_reason": session.get("end_reason") or "ended",
        "codesession.cost": float(session.get("ai_cost") or 0),
        "codesession.tokens": int(session.get("ai_tokens") or 0),
        "codesession.files.count": len(files),
        "codesession.files": files[:MAX_LISTED],
        "codesession.commits.count": len(commits),
        "codesession.commits": commits[:MAX_LISTED],
    }
    if session.get("branch"):
        found["vcs.ref.head.name"] = session["branch"]
    if session.get("start_git_head"):
        found["vcs.ref.base.revision"] = session["start_git_head"]
    return {key: value for key, value in found.items() if value is not None}


def _export_traces(
    events: Sequence[Event], resource: Resource, url: str, timeout_s: float
) -> bool:
    ids = _SessionIds()
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=resource, id_generator=ids, shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer(SCOPE, __version__)
    for event in events:
        session = event.payload
        ids.seed = _seed(resource, session)
        span = tracer.start_span(
            "codesession.session",
            kind=SpanKind.INTERNAL,
            attributes=session_attributes(session),
            start_time=_nanos(session["start_time"]),
        )
        span.end(end_time=_nanos(session["end_time"] or session["start_time"]))
    spans = memory.get_finished_spans()
    if not spans:
        return True
    exporter = OTLPSpanExporter(endpoint=url, timeout=timeout_s)
    try:
        return exporter.export(spans) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()


def _seed(resource: Resource, session: Mapping[str, Any]) -> bytes:
    who = resource.attributes
    parts = (
        who.get(settings.USER_ATTRIBUTE),
        who.get(settings.HOST_ATTRIBUTE),
        session["id"],
        session["start_time"],
    )
    return "|".join(str(part) for part in parts).encode()


_LOG_NAMES = {
    "ai_call": "codesession.ai_call",
    "session_start": "codesession.session.start",
    "session_end": "codesession.session.end",
    "alert": "codesession.alert",
}


_START_KEYS = (
    "codesession.session.id",
    "codesession.session.name",
    "codesession.project",
    "vcs.ref.head.name",
    "vcs.ref.base.revision",
)


def log_attributes(event: Event) -> tuple[str, dict[str, Any]]:
    """Return a log event's timestamp and attributes."""
    payload = event.payload
    if event.kind == "ai_call":
        return payload["timestamp"], _call_log(payload)
    if event.kind == "alert":
        return payload.get("fired_at") or event.created_at, _alert_log(payload)
    found = session_attributes(payload)
    if event.kind == "session_start":
        found = {key: found[key] for key in _START_KEYS if key in found}
        return payload["start_time"], found
    found["codesession.duration_s"] = payload.get("duration") or 0
    return payload.get("end_time") or event.created_at, found


def _call_log(call: Mapping[str, Any]) -> dict[str, Any]:
    found = call_attributes(call)
    counts = {kind: count for _, kind, count in token_counts(call)}
    found["gen_ai.usage.input_tokens"] = counts.pop("input")
    found["gen_ai.usage.output_tokens"] = counts.pop("output")
    for kind, count in counts.items():
        found[f"codesession.usage.{kind}_tokens"] = count
    found["codesession.call.id"] = call["id"]
    if call.get("cost") is not None:
        found["codesession.cost"] = float(call["cost"])
    if call.get("cost_source"):
        found["codesession.cost.source"] = call["cost_source"]
    found["codesession.estimated"] = bool(call.get("estimated"))
    return found


def _alert_log(alert: Mapping[str, Any]) -> dict[str, Any]:
    found = {
        "codesession.alert.id": alert.get("id"),
        "codesession.budget.scope": alert.get("scope") or "",
        "codesession.budget.period": alert.get("period"),
        "codesession.budget.threshold_percent": alert.get("threshold_percent"),
        "codesession.budget.spent_usd": alert.get("spent_usd"),
        "codesession.budget.limit_usd": alert.get("limit_usd"),
        "codesession.session.id": alert.get("session_id"),
    }
    return {key: value for key, value in found.items() if value is not None}


def _export_logs(
    events: Sequence[Event], resource: Resource, url: str, timeout_s: float
) -> bool:
    from opentelemetry._logs import SeverityNumber

    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger(SCOPE, __version__)
    for event in events:
        stamp, attributes = log_attributes(event)
        alert = event.kind == "alert"
        logger.emit(
            timestamp=_nanos(stamp),
            observed_timestamp=_nanos(event.created_at),
            severity_number=SeverityNumber.WARN if alert else SeverityNumber.INFO,
            severity_text="WARN" if alert else "INFO",
            body=_LOG_NAMES[event.kind],
            attributes=attributes,
            event_name=_LOG_NAMES[event.kind],
        )
    records = memory.get_finished_logs()
    exporter = OTLPLogExporter(endpoint=url, timeout=timeout_s)
    try:
        return exporter.export(records) is LogRecordExportResult.SUCCESS
    finally:
        exporter.shutdown()


_EXPORTS = {
    "metrics": _export_metrics,
    "traces": _export_traces,
    "logs": _export_logs,
}
