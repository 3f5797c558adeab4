"""The API killed with SIGKILL in the middle of a burst of loan applications: every loan the
database holds has its audit row and every loan.applied audit row its loan (one transaction),
and every acknowledged application is there."""

import time
from pathlib import Path

import pytest

from tests.fault.api_process import api_process
from tests.fault.ledger import baseline, lost_writes, orphans, wait_for_no_api_backends
from tests.fault.stack import DemoDatabase
from tests.fault.workload import MixedLoad

pytestmark = pytest.mark.fault

WRITERS = 8
ACKS_BEFORE_KILL = 30


def test_sigkill_mid_burst_leaves_no_loan_without_audit(
    fault_database: DemoDatabase, tmp_path: Path
) -> None:
    since = baseline(fault_database.url)
    with api_process(
        fault_database.app_url, tmp_path / "api.log", rate_limit_enabled="false"
    ) as api:
        burst = MixedLoad(
            api.base_url, fault_database.admin_token, readers=0, writers=WRITERS, timeout=10
        )
        burst.start()
        deadline = time.monotonic() + 20
        while len(burst.acks) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        killed_at = time.monotonic()
        api.kill()
        burst.stop(give_up_after=0)
    # Once the dead API's sessions are gone, nothing it began can still commit.
    wait_for_no_api_backends(fault_database.url, fault_database.name)
    found = orphans(fault_database.url, since)
    cut_off = [r for r in burst.writes if r.started < killed_at and r.status is None]
    print(
        f"\nSIGKILL after {len(burst.acks)} acknowledged loans, {len(cut_off)} requests in "
        f"flight; database: {found.loans} loans, {found.audits} loan.applied audit rows, "
        f"{len(found.loans_without_audit)} loans without audit, "
        f"{len(found.audits_without_loan)} audit rows without loan"
    )
    assert len(burst.acks) >= ACKS_BEFORE_KILL, "the burst never got going"
    assert cut_off, "no request was in flight when the API was killed"
    assert found.loans_without_audit == []
    assert found.audits_without_loan == []
    assert found.loans == found.audits
    assert lost_writes(fault_database.url, (ack.loan_id for ack in burst.acks)) == []
