"""GraphiQL served offline (graphql_api/ide): vendored files intact, a page that names no other
host, assets without a key, and the local admin key only for a browser on this machine.

A real server on loopback answers the page and assets. The cases that need a peer or a server
socket off loopback are driven through the ASGI interface with those addresses (httpx's
ASGITransport sets `client` and `server` as a server would), since no test may reach beyond
loopback. tests/test_browser.py runs the page itself in Chromium.
"""

import asyncio
import hashlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from graphql_api.config import Settings
from graphql_api.ide.assets import CACHE_FOREVER
from graphql_api.ide.local_key import is_local_request
from graphql_api.ide.page import _script_json
from graphql_api.ide.vendor import CHECKSUMS_FILE, LICENCE_FILE, PACKAGES, STATIC_DIR, VENDOR_DIR
from graphql_api.runtime.app import create_app
from tests.http_server import serve_in_thread

HTML = {"Accept": "text/html"}
LOCAL_KEY = "fgk_" + "k" * 43


def checksums() -> dict[str, str]:
    listed = {}
    for line in CHECKSUMS_FILE.read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    return listed


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the vendored files --------------------------------------------------------------------


def test_vendored_files_are_exactly_those_checksummed() -> None:
    on_disk = {
        path.relative_to(VENDOR_DIR).as_posix(): sha256(path.read_bytes())
        for path in VENDOR_DIR.rglob("*")
        if path.is_file() and path != CHECKSUMS_FILE
    }
    assert on_disk == checksums()


def test_every_package_is_vendored_with_its_licence() -> None:
    listed = checksums()
    for package in PACKAGES:
        for file_name in package.files.values():
            assert f"{package.directory}/{file_name}" in listed
        licence = (VENDOR_DIR / package.directory / LICENCE_FILE).read_text()
        assert "MIT License" in licence
        assert "Permission is hereby granted, free of charge" in licence
        for bundled in package.bundles:
            bundled_licence = VENDOR_DIR / package.directory / f"{LICENCE_FILE}.{bundled.name}"
            assert "Permission is hereby granted" in bundled_licence.read_text()
    assert "graphiql@3.8.3" in (VENDOR_DIR / "README.md").read_text()


def test_stylesheets_load_nothing_from_elsewhere() -> None:
    for sheet in STATIC_DIR.rglob("*.css"):
        text = sheet.read_text()
        assert "@import" not in text, sheet
        for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", text):
            assert target.startswith("data:"), (sheet, target[:80])


def test_vendored_files_total_a_few_megabytes() -> None:
    sizes = [path.stat().st_size for path in VENDOR_DIR.rglob("*") if path.is_file()]
    assert sum(sizes) < 5 * 1024 * 1024


# --- the page and its assets over HTTP ----------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]


def page_urls(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


def test_page_and_assets_come_from_this_server_only(api_url: str) -> None:
    page = httpx.get(f"{api_url}/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?:|//[a-z]", page.text, re.IGNORECASE)  # no other origin at all
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "http" not in policy  # only 'self' and data:, never a host
    urls = page_urls(page.text)
    assets = [url for url in urls if not url.startswith("data:")]
    assert len(assets) == 8
    listed = checksums()
    for url in assets:
        assert url.startswith("/ide/"), url
        response = httpx.get(f"{api_url}{url}")  # no key needed
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == CACHE_FOREVER
        assert response.headers["x-content-type-options"] == "nosniff"
        kind = "text/javascript" if url.split("?")[0].endswith(".js") else "text/css"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8"
        relative = url.removeprefix("/ide/").split("?")[0]
        assert response.content == (STATIC_DIR / relative).read_bytes()
        if relative.startswith("vendor/"):
            assert sha256(response.content) == listed[relative.removeprefix("vendor/")]


@pytest.mark.parametrize(
    "path",
    [
        "/ide/vendor/react@18.2.0/LICENSE",
        "/ide/vendor/SHA256SUMS",
        "/ide/nothing.js",
        "/ide/../config.py",
        "/ide/%2e%2e/config.py",
        "/ide/vendor/../../page.py",
    ],
)
def test_only_scripts_and_styles_are_served(api_url: str, path: str) -> None:
    response = httpx.get(f"{api_url}{path}")
    assert response.status_code == 404
    assert "Permission is hereby granted" not in response.text
    assert "import" not in response.text


def test_operations_over_get_are_still_refused(api_url: str) -> None:
    response = httpx.get(f"{api_url}/graphql", params={"query": "{ __typename }"}, headers=HTML)
    assert response.status_code == 405


def test_config_json_cannot_close_its_script_element() -> None:
    text = _script_json({"x": "</script><script>alert(1)</script>&"})
    for character in "<>&":
        assert character not in text


# --- the local admin key -------------------------------------------------------------------


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "admin-api-key"
    path.write_text(LOCAL_KEY + "\n")
    return path


@pytest.fixture
def local_dev_url(app_database_url: str, key_file: Path) -> Iterator[str]:
    """Served as `finance-api serve` serves the embedded development database."""
    settings = Settings(database_url=app_database_url, ide_admin_key_file=key_file)
    with serve_in_thread(create_app(settings)) as url:
        yield url


def test_page_carries_the_local_key_for_this_machines_browser(local_dev_url: str) -> None:
    for host in ("127.0.0.1", "localhost", "graphiql.localhost"):
        port = local_dev_url.rsplit(":", 1)[1]
        page = httpx.get(f"{local_dev_url}/graphql", headers={**HTML, "Host": f"{host}:{port}"})
        assert f'"localAdminKey": "{LOCAL_KEY}"' in page.text, host
        assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "rebound.example:8000"},  # DNS rebinding: another site's name for 127.0.0.1
        {"X-Forwarded-For": "203.0.113.7"},  # a reverse proxy on this machine
        {"Forwarded": "for=203.0.113.7"},
        {"X-Real-IP": "203.0.113.7"},
    ],
)
def test_no_key_through_a_proxy_or_under_another_name(
    local_dev_url: str, headers: dict[str, str]
) -> None:
    page = httpx.get(f"{local_dev_url}/graphql", headers={**HTML, **headers})
    assert page.status_code == 200
    assert '"localAdminKey": null' in page.text
    assert LOCAL_KEY not in page.text


def asgi_page(settings: Settings, peer: tuple[str, int], server_url: str) -> str:
    """The page as the app answers a request from `peer` to a server socket at `server_url`."""
    transport = httpx.ASGITransport(app=create_app(settings), client=peer)

    async def fetch() -> str:
        async with httpx.AsyncClient(transport=transport, base_url=server_url) as client:
            response = await client.get("/graphql", headers=HTML)
            assert response.status_code == 200
            return response.text

    return asyncio.run(fetch())


@pytest.mark.parametrize(
    ("client", "server_url"),
    [
        (("203.0.113.7", 50000), "http://127.0.0.1:8000"),  # a peer on another machine
        (("127.0.0.1", 50000), "http://192.0.2.10:8000"),  # server socket on another interface
        (("10.1.2.3", 50000), "http://10.1.2.4:8000"),
    ],
)
def test_no_key_off_loopback(
    app_database_url: str, key_file: Path, client: tuple[str, int], server_url: str
) -> None:
    settings = Settings(database_url=app_database_url, ide_admin_key_file=key_file)
    page = asgi_page(settings, client, server_url)
    assert '"localAdminKey": null' in page
    # ... while the same request from loopback to loopback gets it (the check is not vacuous).
    local = asgi_page(settings, ("127.0.0.1", 50000), "http://127.0.0.1:8000")
    assert LOCAL_KEY in local


def test_no_key_in_production_even_if_configured(app_database_url: str, key_file: Path) -> None:
    settings = Settings(
        env="production", database_url=app_database_url, graphiql=True, ide_admin_key_file=key_file
    )
    page = asgi_page(settings, ("127.0.0.1", 50000), "http://127.0.0.1:8000")
    assert '"localAdminKey": null' in page


def test_no_key_without_a_key_file_or_with_a_bad_one(app_database_url: str, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key\n")
    for key_file in (None, garbage, tmp_path / "missing"):
        settings = Settings(database_url=app_database_url, ide_admin_key_file=key_file)
        page = asgi_page(settings, ("127.0.0.1", 50000), "http://127.0.0.1:8000")
        assert '"localAdminKey": null' in page, key_file


def test_unix_socket_and_missing_addresses_are_not_local() -> None:
    base = {"type": "http", "headers": [(b"host", b"localhost")]}
    assert is_local_request({**base, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)})
    assert not is_local_request({**base, "client": ("127.0.0.1", 1), "server": ("/tmp/s", None)})
    assert not is_local_request({**base, "client": None, "server": ("127.0.0.1", 2)})
    assert not is_local_request(
        {
            **base,
            "client": ("::1", 1),
            "server": ("127.0.0.1", 2),
            "headers": [(b"host", b"[::2]:8000")],
        }
    )


def test_graphiql_off_serves_neither_page_nor_assets(app_database_url: str) -> None:
    settings = Settings(database_url=app_database_url, graphiql=False)
    with serve_in_thread(create_app(settings)) as url:
        page = httpx.get(f"{url}/graphql", headers=HTML)
        asset = httpx.get(f"{url}/ide/finance-graphiql.js")
    assert (page.status_code, asset.status_code) == (404, 404)
    assert "graphiql" not in page.text.lower()
