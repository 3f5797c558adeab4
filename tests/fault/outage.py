"""PostgreSQL stopped and started again under mixed load, the API left running."""

import time
from dataclasses import dataclass
from math import inf

from tests.fault.api_process import ApiProcess
from tests.fault.ledger import baseline, lost_writes, rows_per_amount
from tests.fault.postgres_control import RestartablePostgres
from tests.fault.replies import failures, tally
from tests.fault.stack import DemoDatabase
from tests.fault.workload import MixedLoad

# The API's whole-request deadline in these scenarios, and how long a client waits beyond it
# before it calls the request hung.
REQUEST_DEADLINE_SECONDS = 5.0
HANG_SLACK_SECONDS = 3.0


@dataclass(frozen=True)
class OutageFigures:
    outage_seconds: float  # from the stop until PostgreSQL accepted connections again
    # Replies by status and code: answered before the stop began; the rest sent before
    # PostgreSQL was back (the outage); sent after it was back.
    before: dict[str, int]
    during: dict[str, int]
    after: dict[str, int]
    recovered_after: float  # from PostgreSQL back until the last non-success ended
    first_ok_after: float  # from PostgreSQL back until the first success sent after that
    ok_after_recovery: int
    slowest_reply: float
    failures: list[str]
    acknowledged: int
    retried_keys: int
    abandoned_keys: list[str]
    lost_writes: list[int]  # acknowledged loan ids without their row or audit row
    duplicated_amounts: dict[str, int]  # an idempotency key's amount stored more than once

    def lines(self) -> list[str]:
        return [
            f"PostgreSQL down for {self.outage_seconds:.1f} s under 2 readers + 2 writers",
            f"  replies before: {self.before}",
            f"  replies during: {self.during}",
            f"  replies after:  {self.after}",
            f"  after PostgreSQL was back: first success in {self.first_ok_after:.2f} s, last "
            f"non-success ended at {self.recovered_after:.2f} s, then "
            f"{self.ok_after_recovery} successes; slowest reply {self.slowest_reply:.2f} s",
            f"  loans acknowledged {self.acknowledged}, keys retried {self.retried_keys}, "
            f"writes lost {len(self.lost_writes)}, keys stored twice "
            f"{len(self.duplicated_amounts)}, keys abandoned {len(self.abandoned_keys)}",
            f"  failures (neither success nor typed 503): {len(self.failures)}",
            *(f"    {failure}" for failure in self.failures[:10]),
        ]


def run_postgres_outage(
    postgres: RestartablePostgres,
    api: ApiProcess,
    database: DemoDatabase,
    *,
    outage_seconds: float,
    warmup_seconds: float = 1.5,
    after_seconds: float = 5.0,
) -> OutageFigures:
    since = baseline(database.url)
    load = MixedLoad(
        api.base_url,
        database.admin_token,
        timeout=REQUEST_DEADLINE_SECONDS + HANG_SLACK_SECONDS,
    )
    load.start()
    time.sleep(warmup_seconds)
    stopped_at = time.monotonic()
    postgres.stop()
    time.sleep(max(0.0, outage_seconds - (time.monotonic() - stopped_at)))
    postgres.start()
    back_at = time.monotonic()
    time.sleep(after_seconds)
    load.stop(give_up_after=15.0)
    replies = load.replies
    recovered_at = max((r.ended for r in replies if r.kind != "ok"), default=back_at)
    recovered_at = max(recovered_at, back_at)
    first_ok = min(
        (r.ended for r in replies if r.started >= back_at and r.kind == "ok"), default=inf
    )
    stored = rows_per_amount(database.url, since)
    return OutageFigures(
        outage_seconds=back_at - stopped_at,
        before=tally(r for r in replies if r.ended < stopped_at),
        during=tally(r for r in replies if r.ended >= stopped_at and r.started < back_at),
        after=tally(r for r in replies if r.started >= back_at),
        recovered_after=recovered_at - back_at,
        first_ok_after=first_ok - back_at,
        ok_after_recovery=sum(1 for r in replies if r.started > recovered_at and r.kind == "ok"),
        slowest_reply=max(r.seconds for r in replies),
        failures=failures(sorted(replies, key=lambda r: r.started)),
        acknowledged=len(load.acks),
        retried_keys=len(load.retried_keys),
        abandoned_keys=load.abandoned_keys,
        lost_writes=lost_writes(database.url, (ack.loan_id for ack in load.acks)),
        duplicated_amounts={amount: n for amount, n in stored.items() if n > 1},
    )
