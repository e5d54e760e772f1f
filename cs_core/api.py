"""A Python API for agents written in Python: a session as a context manager.

    from cs_core.api import track

    with track("fix login bug", budget_usd=2.00) as session:
        session.guard(0.30)  # BudgetExceededError before the money is spent
        reply = client.messages.create(...)
        session.log_call(
            "anthropic", "claude-sonnet-4",
            prompt_tokens=reply.usage.input_tokens,
            completion_tokens=reply.usage.output_tokens,
        )

The session ends with its git scan when the block exits, also when it raises.
Recording a call is never refused: `guard` and `can_afford` are how a budget
stops spending, before it happens.
"""

import sqlite3
from decimal import Decimal
from types import TracebackType
from typing import Any

from . import budgets, output
from .calls import CallInput, log_call
from .db import connect
from .errors import BudgetExceededError, InvalidInputError
from .pricing import load_price_book
from .sessions import (
    add_note,
    end_session,
    get_session,
    resolve_scope,
    session_detail,
    start_session,
)


class TrackedSession:
    """A `cs` session that an agent's code drives directly.

    Args:
        name: The session's name.
        budget_usd: A cap on this session's spend, on top of the stored
            budgets (`cs budget set`); `guard` and `can_afford` apply both.
        cwd: The folder whose scope (git top level) the session belongs to;
            default: the current directory.
        resume: Continue the scope's active session instead of failing with
            `SessionActiveError`. A resumed session is left open on exit.
        agent_name: Recorded on every call that names no agent itself.
    """

    def __init__(
        self,
        name: str,
        *,
        budget_usd: float | str | Decimal | None = None,
        cwd: str | None = None,
        resume: bool = False,
        agent_name: str | None = None,
    ) -> None:
        self.name = name
        self.budget_usd = (
            None
            if budget_usd is None
            else budgets.parse_amount(budget_usd, "budget_usd")
        )
        if self.budget_usd == 0:
            raise InvalidInputError("budget_usd must be above 0")

        self.cwd = cwd
        self.resume = resume
        self.agent_name = agent_name
        self._conn: sqlite3.Connection | None = None
        self._row: sqlite3.Row | None = None
        self._owned = False

    def __enter__(self) -> "TrackedSession":
        """Start (or with `resume`, continue) the session."""
        self._conn = connect()
        try:
            row, resumed = start_session(
                self._conn, self.name, resolve_scope(self.cwd), resume=self.resume
            )
        except BaseException:
            self._conn.close()
            self._conn = None
            raise
        self._row, self._owned = row, not resumed
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """End the session with its git scan, even when the body raised."""
        try:
            current = get_session(self.conn, self.id)
            if self._owned and current["status"] == "active":
                reason = "ended" if exc_type is None else "interrupted"
                self._row = end_session(self.conn, current, reason=reason)
        finally:
            self.conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The open database connection.

        Raises:
            InvalidInputError: Used outside its `with` block.
        """
        if self._conn is None:
            raise InvalidInputError("the session is not open; use it in a with block")
        return self._conn

    @property
    def id(self) -> int:
        """The session's id."""
        assert self._row is not None
        return int(self._row["id"])

    @property
    def spent_usd(self) -> Decimal:
        """What the session's calls have cost so far, exactly."""
        total = self.conn.execute(
            "SELECT SUM(cost) FROM ai_usage WHERE session_id = ?", (self.id,)
        ).fetchone()[0]
        return budgets.exact(total)

    def limits(self) -> list[budgets.LimitStatus]:
        """Return the stored budgets that apply to this session, measured now."""
        row = get_session(self.conn, self.id)
        return budgets.statuses(self.conn, row["scope"] or "", self.id)

    def can_afford(self, estimate_usd: float | str | Decimal) -> bool:
        """Whether a call costing about `estimate_usd` stays within every limit."""
        try:
            self.guard(estimate_usd)
        except BudgetExceededError:
            return False
        return True

    def guard(self, estimate_usd: float | str | Decimal) -> None:
        """Refuse, before it is made, a call that would go over a limit.

        Raises:
            BudgetExceededError: The session's `budget_usd` or an enforced
                stored budget is used up, or would be by this call.
            InvalidInputError: The estimate is not an amount of 0 or more.
        """
        estimate = budgets.parse_amount(estimate_usd, "estimate_usd")
        self._guard_own(estimate)
        budgets.check(self.limits(), estimate)

    def _guard_own(self, estimate: Decimal) -> None:
        cap = self.budget_usd
        spent = self.spent_usd
        if cap is None or (spent < cap and spent + estimate <= cap):
            return

        raise BudgetExceededError(
            f"session budget of {output.format_usd(cap)} would be exceeded: "
            f"{output.format_usd(spent)} spent, {output.format_usd(estimate)} more "
            "requested",
            period="session",
            scope="api",
            budgetId=None,
            spent=output.money(spent),
            limit=output.money(cap),
            estimate=output.money(estimate),
        )

    def log_call(
        self,
        provider: str,
        model: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        total_tokens: int | None = None,
        cost_usd: float | str | Decimal | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        agent_name: str | None = None,
        allow_unpriced: bool = False,
    ) -> dict[str, Any]:
        """Record a call that was made, priced as `cs log-ai` prices it.

        Never refused for budget reasons: the money is already spent. Alerts
        it fires go to the terminal and the configured sinks.

        Returns:
            `logged` (the call object), `warnings`, `alerts` and `budget`.

        Raises:
            InvalidInputError: Counts or cost out of range.
            MissingTokensError: No token count at all.
            UnknownModelError: No price and no `cost_usd`.
        """
        call = CallInput(
            provider=provider,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=total_tokens,
            cost=None if cost_usd is None else str(cost_usd),
            cache_read_tokens=cache_read_tokens,
            cache_write_tokens=cache_write_tokens,
            reasoning_tokens=reasoning_tokens,
            agent_name=agent_name or self.agent_name,
            allow_unpriced=allow_unpriced,
            source="api",
        )

        session = get_session(self.conn, self.id)
        logged = log_call(self.conn, load_price_book(), session, call)
        budgets.deliver(self.conn, logged.alerts, terminal=True)

        assert logged.row is not None
        return {
            "logged": output.call_object(logged.row),
            "warnings": logged.warnings,
            "alerts": logged.alerts,
            "budget": budgets.block(self.limits()),
        }

    def note(self, message: str) -> None:
        """Add a timestamped annotation to the session."""
        add_note(self.conn, get_session(self.conn, self.id), message)

    def status(self) -> dict[str, Any]:
        """Return the session object with its calls, notes and budget block."""
        row = get_session(self.conn, self.id)
        document = output.session_document(
            row, session_detail(self.conn, self.id), files=False, commits=False
        )
        document["budget"] = budgets.block(self.limits())
        return document

    @property
    def row(self) -> sqlite3.Row | None:
        """The session's row as last read (after exit: the ended session)."""
        return self._row


def track(
    name: str,
    *,
    budget_usd: float | str | Decimal | None = None,
    cwd: str | None = None,
    resume: bool = False,
    agent_name: str | None = None,
) -> TrackedSession:
    """Return a session to use in a `with` block; see `TrackedSession`."""
    return TrackedSession(
        name, budget_usd=budget_usd, cwd=cwd, resume=resume, agent_name=agent_name
    )
