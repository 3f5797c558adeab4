"""GC tuning (settings.gc_tuning, serve.tuned_gc): a served app freezes its start-up objects
and raises the collection thresholds while it runs, and puts both back when it stops."""

import gc
from collections.abc import Iterator

import httpx
import pytest

from graphql_api.config import Settings
from graphql_api.runtime.app import create_app
from graphql_api.runtime.serve import GC_THRESHOLDS
from tests.http_server import serve_in_thread

DEFAULT_THRESHOLDS = (700, 10, 10)


@pytest.fixture
def default_gc() -> Iterator[None]:
    """CPython's defaults and nothing frozen, whatever other servers in this process did;
    their state is restored afterwards."""
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    gc.set_threshold(*DEFAULT_THRESHOLDS)
    gc.unfreeze()
    yield
    gc.set_threshold(*thresholds)
    if frozen:
        gc.freeze()


@pytest.mark.usefixtures("default_gc")
def test_a_served_app_tunes_the_collector_while_it_runs(app_database_url: str) -> None:
    with serve_in_thread(create_app(Settings(database_url=app_database_url))) as url:
        assert gc.get_threshold() == GC_THRESHOLDS
        # The schema, engine and sentiment model are set aside from every collection.
        assert gc.get_freeze_count() > 10_000
        assert httpx.get(f"{url}/healthz").status_code == 200
    assert gc.get_threshold() == DEFAULT_THRESHOLDS
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("default_gc")
def test_gc_tuning_off_leaves_the_collector_alone(app_database_url: str) -> None:
    settings = Settings(database_url=app_database_url, gc_tuning=False)
    with serve_in_thread(create_app(settings)):
        assert gc.get_threshold() == DEFAULT_THRESHOLDS
        assert gc.get_freeze_count() == 0
