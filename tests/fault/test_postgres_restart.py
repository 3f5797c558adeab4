"""PostgreSQL restarted under mixed load: the API answers only successes or typed 503s,
recovers by itself, and loses or duplicates no acknowledged write.

Runs its own throwaway embedded PostgreSQL: the only server this suite ever stops."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fault.api_process import ApiProcess, api_process
from tests.fault.outage import REQUEST_DEADLINE_SECONDS, OutageFigures, run_postgres_outage
from tests.fault.postgres_control import RestartablePostgres
from tests.fault.replies import send
from tests.fault.stack import DemoDatabase, demo_database
from tests.fault.workload import (
    APPLY_FOR_LOAN,
    NESTED_MEMBERS,
    LoanKeys,
    api_client,
    loan_created,
    loan_input,
)

pytestmark = [pytest.mark.fault, pytest.mark.own_postgres]

OUTAGE_SECONDS = 4.0
RECOVERY_LIMIT_SECONDS = 5.0


@dataclass(frozen=True)
class Restarted:
    figures: OutageFigures
    api: ApiProcess
    database: DemoDatabase


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restarted]:
    postgres = RestartablePostgres()
    log = tmp_path_factory.mktemp("fault-restart") / "api.log"
    try:
        with (
            demo_database(postgres.url()) as database,
            api_process(
                database.app_url,
                log,
                request_timeout_seconds=str(REQUEST_DEADLINE_SECONDS),
                rate_limit_enabled="false",
            ) as api,
        ):
            figures = run_postgres_outage(postgres, api, database, outage_seconds=OUTAGE_SECONDS)
            print("\n" + "\n".join(figures.lines()))
            yield Restarted(figures, api, database)
    finally:
        postgres.close()


def test_every_reply_is_a_success_or_a_typed_503(restarted: Restarted) -> None:
    figures = restarted.figures
    assert figures.failures == [], restarted.api.log_tail()
    assert set(figures.before) == {"200"}, figures.before
    # The fault really happened: requests during the outage were refused, and typed.
    assert figures.during.get("503 SERVICE_UNAVAILABLE", 0) > 0, figures.during


def test_no_reply_hangs_past_the_request_deadline(restarted: Restarted) -> None:
    # A client timeout would already be a failure; this bounds the slowest answer too.
    assert restarted.figures.slowest_reply < REQUEST_DEADLINE_SECONDS + 1.0


def test_full_service_returns_without_restarting_the_api(restarted: Restarted) -> None:
    figures, api = restarted.figures, restarted.api
    assert figures.first_ok_after < RECOVERY_LIMIT_SECONDS, figures.lines()
    assert figures.recovered_after < RECOVERY_LIMIT_SECONDS, figures.lines()
    assert figures.ok_after_recovery > 0, figures.after
    assert api.process.poll() is None, "the API process exited"
    keys = LoanKeys()
    with api_client(api.base_url, restarted.database.admin_token, timeout=10) as client:
        reads = [send(client, NESTED_MEMBERS) for _ in range(5)]
        write = send(client, APPLY_FOR_LOAN, loan_input(*keys.next()), is_success=loan_created)
    assert [r.kind for r in [*reads, write]] == ["ok"] * 6, [r.describe() for r in reads]


def test_no_acknowledged_write_is_lost(restarted: Restarted) -> None:
    figures = restarted.figures
    assert figures.acknowledged > 0
    assert figures.lost_writes == []
    assert figures.abandoned_keys == []


def test_retried_keys_give_exactly_one_loan_each(restarted: Restarted) -> None:
    figures = restarted.figures
    assert figures.retried_keys > 0, "no write was retried: the outage missed the writers"
    assert figures.duplicated_amounts == {}
