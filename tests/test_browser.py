"""GraphiQL in a real browser: Debian's headless Chromium (tests/browser/cdp.py) against a real
server on loopback, with every other host unresolvable and every request counted.

The README's first query is typed into the editor and run with the ▶ button; the result panel
must show the demo members, the console must stay free of errors, and no request may go to
another host. Screenshots go to $BROWSER_ARTIFACTS_DIR (else a pytest temporary folder); the
path and the time from server start to GraphiQL's first answer are printed (`pytest -s`).

Needs `chromium` (apt-get install -y chromium): skipped without it, except under CI=true,
where a missing browser fails the run instead of hiding it.
"""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from tests.api_keys import create_api_key
from tests.browser.cdp import Page, chromium_executable, launch
from tests.http_server import free_port, serve_in_thread

pytestmark = pytest.mark.browser

README_QUERY = "{ members(first: 5) { edges { node { memberNumber fullName } } } }"
DEMO_FILE = Path(__file__).resolve().parents[1] / "data" / "demo.json"

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = "section.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT_EDITOR = ".result-window .CodeMirror"
RUN_BUTTON = ".graphiql-execute-button"
DOCS_BUTTON = 'button[aria-label="Show Documentation Explorer"]'
# Generous: two cores shared with the rest of the suite (figures are printed, not asserted).
SERVER_START_SECONDS = 60


@pytest.fixture(scope="module")
def chromium() -> str:
    executable = chromium_executable()
    if executable is None:
        reason = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return executable


@pytest.fixture(scope="module")
def admin_key(demo_loaded: str) -> str:
    return create_api_key(demo_loaded, Role.ADMIN, label="browser test")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("BROWSER_ARTIFACTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("browser")


def first_members(base_url: str, key: str) -> list[str]:
    """What the query answers over plain HTTP: the numbers the result panel must show."""
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": README_QUERY},
        headers={"Authorization": f"Bearer {key}"},
    )
    edges = response.json()["data"]["members"]["edges"]
    numbers = [edge["node"]["memberNumber"] for edge in edges]
    demo = {member["member_number"] for member in json.loads(DEMO_FILE.read_text())["members"]}
    assert len(numbers) == 5
    assert set(numbers) <= demo, numbers
    return numbers


class LocalServer:
    """The API as `finance-api serve` runs it in development on the embedded database: its
    own process, with the local admin key file it points GraphiQL at. The test starts it
    (`start`), so the clock can start with it."""

    def __init__(self, database_url: str, key_file: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "FINANCE_API_ENV": "development",
            "FINANCE_API_IDE_ADMIN_KEY_FILE": str(key_file),
        }
        self.command = [sys.executable, "-m", "uvicorn", "graphql_api.runtime.app:create_app"]
        self.command += ["--factory", "--host", "127.0.0.1", "--port", str(port)]
        self.command += ["--log-level", "warning"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(self.command, env=self.environment)
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def local_server(app_database_url: str, admin_key: str, tmp_path: Path) -> Iterator[LocalServer]:
    key_file = tmp_path / "admin-api-key"
    key_file.write_text(admin_key + "\n")
    server = LocalServer(app_database_url, key_file)
    try:
        yield server
    finally:
        server.stop()


async def wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            with contextlib.suppress(httpx.ConnectError):
                if (await client.get(f"{base_url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the server did not start within {SERVER_START_SECONDS} s")


async def open_graphiql(page: Page, base_url: str) -> None:
    await page.navigate(f"{base_url}/graphql")
    await page.wait_for(f"!!document.querySelector({json.dumps(QUERY_EDITOR)})")


async def run_readme_query(page: Page) -> str:
    """Type the README's query over the editor's content, press ▶, return the response text."""
    await page.replace_text(QUERY_EDITOR, README_QUERY)
    await page.click(RUN_BUTTON)
    return str(await page.wait_for(f"{editor_text(RESULT_EDITOR)}.includes('memberNumber')"))


def editor_text(selector: str) -> str:
    """A JavaScript expression: the whole text of the CodeMirror editor at `selector`."""
    return f"document.querySelector({json.dumps(selector)}).CodeMirror.getValue()"


async def response_text(page: Page) -> str:
    return str(await page.evaluate(editor_text(RESULT_EDITOR)))


def assert_clean(page: Page) -> None:
    assert page.other_host_requests() == []
    assert page.errors == []
    statuses = [page.statuses.get(request["id"]) for request in page.graphql_posts()]
    assert statuses, "GraphiQL sent no GraphQL request"
    assert set(statuses) == {200}, statuses


def test_graphiql_answers_the_readme_query_offline_with_the_local_key(
    chromium: str,
    local_server: LocalServer,
    admin_key: str,
    artifacts: Path,
) -> None:
    base_url = local_server.url

    async def scenario() -> dict[str, float]:
        async with launch(chromium) as browser:
            page = await browser.new_page()
            started = time.perf_counter()
            await wait_until_serving(base_url, local_server.start())
            serving = time.perf_counter()
            await open_graphiql(page, base_url)
            page_ready = time.perf_counter()
            # The page opened with the key in its Headers tab and fetched the schema with it.
            headers = await page.evaluate(editor_text(HEADERS_EDITOR))
            assert json.loads(headers) == {"Authorization": f"Bearer {admin_key}"}
            await run_readme_query(page)
            answered = time.perf_counter()
            text = await response_text(page)
            for number in first_members(base_url, admin_key):
                assert f'"memberNumber": "{number}"' in text
            assert_clean(page)
            shot = await page.screenshot(artifacts / "graphiql-local-key.png")
            print(f"\nscreenshot: {shot}")
            return {
                "server serving": serving - started,
                "GraphiQL loaded": page_ready - started,
                "first answer": answered - started,
                "requests": len(page.requests),
                "requests to other hosts": len(page.other_host_requests()),
            }

    figures = asyncio.run(scenario())
    print(
        "GraphiQL, from server start (s): "
        + ", ".join(
            f"{name} {value:.2f}" if isinstance(value, float) else f"{name} {value}"
            for name, value in figures.items()
        )
    )


def test_graphiql_without_a_key_asks_nothing_until_one_is_pasted(
    chromium: str, app_database_url: str, admin_key: str, artifacts: Path
) -> None:
    settings = Settings(database_url=app_database_url)  # no local key file: nothing prefilled

    async def scenario(base_url: str) -> None:
        async with launch(chromium) as browser:
            page = await browser.new_page()
            await open_graphiql(page, base_url)
            await page.click(DOCS_BUTTON)
            await page.wait_for("document.body.innerText.includes('No GraphQL schema available')")
            assert page.graphql_posts() == []  # no introspection without a key: no 401s

            await page.replace_text(
                HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {admin_key}"})
            )
            # The schema arrives without a reload: docs and completion work at once.
            await page.wait_for("!!document.querySelector('.graphiql-doc-explorer-root-type')")
            await page.replace_text(QUERY_EDITOR, "{ memb")
            await page.press(" ", "Space", 32, modifiers=2)  # Ctrl-Space: complete
            hints = await page.wait_for(
                "document.querySelector('.CodeMirror-hints')?.innerText || ''"
            )
            assert "members" in hints.split()

            await run_readme_query(page)
            text = await response_text(page)
            for number in first_members(base_url, admin_key):
                assert f'"memberNumber": "{number}"' in text
            assert_clean(page)
            shot = await page.screenshot(artifacts / "graphiql-pasted-key.png")
            print(f"\nscreenshot: {shot}")

            # This browser remembers the key: after a reload the schema loads by itself.
            posts_before = len(page.graphql_posts())
            await open_graphiql(page, base_url)
            await page.click(DOCS_BUTTON)
            await page.wait_for("!!document.querySelector('.graphiql-doc-explorer-root-type')")
            assert admin_key in await page.evaluate(editor_text(HEADERS_EDITOR))
            assert len(page.graphql_posts()) > posts_before
            assert_clean(page)

    with serve_in_thread(create_app(settings)) as url:
        asyncio.run(scenario(url))
