"""Plain data types shared by the core and its plugins.

Nothing here does I/O. Token counts are ints, money is `Decimal` in USD, and rates are
USD per million tokens, as in `cs pricing list`.

The records are immutable `NamedTuple`s rather than frozen dataclasses: every `cs`
command imports this module, and a frozen dataclass costs about 0.4 ms to create
against 0.07 ms for a NamedTuple (measured), which adds up on `cs log-ai`.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import IO, Any, NamedTuple, Protocol, runtime_checkable

MILLION = Decimal(1_000_000)


class Usage(NamedTuple):
    """The token counts of one AI call, as the caller reported them.

    What each count includes is the provider's convention (see `PriceSource`): for
    Anthropic the cache counts come on top of `prompt_tokens`; for OpenAI-style
    providers they are part of it.
    """

    provider: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0


class Rates(NamedTuple):
    """The rates one call is billed at, in USD per million tokens, fallbacks applied."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    reasoning: Decimal


class Tier(NamedTuple):
    """Long-context rates that apply to a whole call whose prompt exceeds `above`."""

    above: int
    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None


class ModelPrice(NamedTuple):
    """List prices of one model, USD per million tokens.

    A missing cache-read or cache-write rate falls back to the input rate, a missing
    1-hour cache-write rate to the 5-minute one, and a missing reasoning rate to the
    output rate.
    """

    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    reasoning: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    max_input_tokens: int | None = None
    aliases: tuple[str, ...] = ()
    source: str | None = None

    def rates(self, prompt_size: int = 0) -> tuple[Rates, Tier | None]:
        """Return the rates for a call whose whole prompt is `prompt_size` tokens.

        Args:
            prompt_size: All prompt tokens of the call, cached ones included.

        Returns:
            The rates and the long-context tier they came from, if any.
        """
        tier = None
        for candidate in sorted(self.tiers, key=lambda t: t.above):
            if prompt_size > candidate.above:
                tier = candidate
        if tier is None:
            base = (self.input, self.output, self.cache_read, self.cache_write)
            write_1h = self.cache_write_1h
        else:
            base = (tier.input, tier.output, tier.cache_read, tier.cache_write)
            write_1h = tier.cache_write_1h
        input_rate, output_rate, read, write = base
        cache_write = write if write is not None else input_rate
        rates = Rates(
            input=input_rate,
            output=output_rate,
            cache_read=read if read is not None else input_rate,
            cache_write=cache_write,
            cache_write_1h=write_1h if write_1h is not None else cache_write,
            reasoning=self.reasoning if self.reasoning is not None else output_rate,
        )
        return rates, tier


class Cost(NamedTuple):
    """A priced call: the cost, the rates used and the tokens billed at each rate."""

    cost_usd: Decimal
    rates: Rates
    tier_above: int | None = None
    billed: Mapping[str, int] = MappingProxyType({})


class RepoInfo(NamedTuple):
    """Where a working tree lives.

    `root` is the working tree's top level, the scope of a session. `project_root`
    identifies the repository behind it, the same for all worktrees of one
    repository.
    """

    backend: str
    root: str
    project_root: str


class HeadInfo(NamedTuple):
    """The checked-out revision: `sha` None when unborn, `branch` None when detached."""

    sha: str | None
    branch: str | None


class Commit(NamedTuple):
    """One commit: the full hash, its subject and its author date with offset."""

    hash: str
    message: str
    timestamp: str


class FileChange(NamedTuple):
    """The net change of one path since a revision, paths relative to the root."""

    path: str
    change_type: str  # created | modified | deleted | renamed
    old_path: str | None = None


class ScanResult(NamedTuple):
    """What a VCS scan found since a session started."""

    commits: tuple[Commit, ...]
    files: tuple[FileChange, ...]


@runtime_checkable
class VcsBackend(Protocol):
    """A version-control system, registered through `register_vcs_backends`."""

    name: str

    def find_root(self, path: str) -> RepoInfo | None:
        """Return the working tree that contains `path`, or None. Must be cheap."""

    def head(self, root: str) -> HeadInfo:
        """Return the checked-out revision of the working tree at `root`."""

    def scan(
        self, root: str, since: str | None, until: str | None = None
    ) -> ScanResult | None:
        """Return commits and net file changes since revision `since`.

        `since` None means the tree had no commit at the start. With `until` (an
        ISO-8601 instant) only commits up to then count and the working tree is
        not inspected. None when the VCS cannot answer (files and commits are
        then unknown, not zero).
        """

    def commits_since(self, root: str, since: str | None) -> tuple[Commit, ...]:
        """Return the commits reachable from HEAD and not from `since`, oldest first."""

    def diff(self, root: str, since: str | None, commit: str | None = None) -> str:
        """Return a text diff: of one commit, or of the tree since `since`."""

    # Optional: `ignored(root, paths) -> set[str]`, which of the relative paths
    # the repository's ignore rules ignore. The live watcher uses it when a
    # backend has it; it is not part of the protocol so older backends still fit.


@runtime_checkable
class OutputFormat(Protocol):
    """An export format, registered through `register_output_formats`."""

    name: str
    description: str

    def write(
        self,
        rows: Iterable[Mapping[str, Any]],
        stream: IO[str],
        *,
        options: "ExportOptions",
    ) -> int:
        """Write `rows` (sessions or calls, as `options.kind` says) to `stream`.

        Must consume `rows` lazily so an export runs in constant memory. Returns the
        number of rows written.
        """


class ExportOptions(NamedTuple):
    """How an export was asked for: `kind` is "sessions" or "calls"."""

    kind: str = "sessions"
    excel: bool = False


@runtime_checkable
class AlertSink(Protocol):
    """Somewhere alerts are delivered, registered through `register_alert_sinks`."""

    kind: str

    def send(self, alert: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        """Deliver one alert. May raise; the host records the failure."""


@runtime_checkable
class Dashboard(Protocol):
    """A web dashboard, registered through `register_dashboards`."""

    name: str

    def serve(self, db_path: str, *, host: str, port: int, token: str | None) -> None:
        """Serve the dashboard on host:port until interrupted."""
