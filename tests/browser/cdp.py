"""Headless Chromium driven over the Chrome DevTools Protocol: just what tests/test_browser.py
needs, on the `websockets` package the server already installs (no Node, no browser download).

Chromium runs with a throwaway profile, no background traffic of its own, and a host resolver
that knows only 127.0.0.1: any other host fails to resolve. Each page still records every
request it makes, so a test can assert that none went elsewhere.
"""

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect

LOOPBACK = "127.0.0.1"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI has no user namespaces for the sandbox
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-breakpad",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--metrics-recording-only",
    "--mute-audio",
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",
    f"--remote-debugging-address={LOOPBACK}",
    "--remote-debugging-port=0",
)
_START_SECONDS = 30.0


def chromium_executable() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class CDPError(Exception):
    pass


class Connection:
    """One WebSocket to the browser; pages are flat sessions on it."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.pages: dict[str, Page] = {}
        self.reader = asyncio.create_task(self._read())

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future = asyncio.get_running_loop().create_future()
        self.pending[message_id] = future
        await self.socket.send(json.dumps(message))
        return await asyncio.wait_for(future, 30)

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                future = self.pending.pop(message["id"])
                if "error" in message:
                    future.set_exception(CDPError(message["error"]))
                else:
                    future.set_result(message.get("result", {}))
            elif (page := self.pages.get(message.get("sessionId", ""))) is not None:
                page.record(message["method"], message.get("params", {}))


@dataclass
class Page:
    connection: Connection
    session_id: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.connection.send(method, params, self.session_id)

    def record(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            self.requests.append({"id": params["requestId"], **params["request"]})
        elif method == "Network.responseReceived":
            self.statuses[params["requestId"]] = params["response"]["status"]
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            texts = (arg.get("value", arg.get("description", "")) for arg in params["args"])
            self.errors.append("console: " + " ".join(map(str, texts)))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(
                "exception: "
                + details.get("exception", details).get("description", details.get("text", ""))
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry['text']} {entry.get('url', '')}".strip())

    def other_host_requests(self) -> list[str]:
        """URLs of requests to anything but the loopback server (data: URLs stay in the page)."""
        return [
            request["url"]
            for request in self.requests
            if urlsplit(request["url"]).scheme in ("http", "https", "ws", "wss")
            and urlsplit(request["url"]).hostname != LOOPBACK
        ]

    def graphql_posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and "/graphql" in r["url"]]

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise CDPError(result["exceptionDetails"])
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 30.0) -> Any:
        deadline = time.monotonic() + seconds
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {seconds} s: {expression}")
            await asyncio.sleep(0.05)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the first element matching `selector`."""
        x, y = await self.wait_for(
            f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            if (!e) return null; const r = e.getBoundingClientRect();
            return r.width > 0 ? [r.x + r.width / 2, r.y + r.height / 2] : null; }})()"""
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def press(self, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
        common = {"key": key, "code": code, "windowsVirtualKeyCode": key_code}
        await self.send("Input.dispatchKeyEvent", type="rawKeyDown", modifiers=modifiers, **common)
        await self.send("Input.dispatchKeyEvent", type="keyUp", modifiers=modifiers, **common)

    async def replace_text(self, selector: str, text: str) -> None:
        """Click into an editor, select all (Ctrl-A) and type `text` over it."""
        await self.click(selector)
        await self.press("a", "KeyA", 65, modifiers=2)
        await self.send("Input.insertText", text=text)

    async def screenshot(self, path: Path) -> Path:
        data = (await self.send("Page.captureScreenshot", format="png"))["data"]
        await asyncio.to_thread(path.write_bytes, base64.b64decode(data))
        return path


class Browser:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def new_page(self, width: int = 1400, height: int = 900) -> Page:
        """A tab in a fresh browser context: no cookies or localStorage from another page."""
        context = await self.connection.send("Target.createBrowserContext")
        target = await self.connection.send(
            "Target.createTarget",
            {"url": "about:blank", "browserContextId": context["browserContextId"]},
        )
        attached = await self.connection.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self.connection, attached["sessionId"])
        self.connection.pages[page.session_id] = page
        for domain in ("Page", "Runtime", "Network", "Log"):
            await page.send(f"{domain}.enable")
        await page.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return page


@contextlib.asynccontextmanager
async def launch(executable: str) -> AsyncIterator[Browser]:
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    try:
        process = await asyncio.create_subprocess_exec(
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with connect(await _devtools_url(profile, process), max_size=None) as socket:
                connection = Connection(socket)
                try:
                    yield Browser(connection)
                finally:
                    # A clean shutdown: Chromium stops writing to its profile before exiting.
                    with contextlib.suppress(Exception):
                        await socket.send(json.dumps({"id": 0, "method": "Browser.close"}))
                    connection.reader.cancel()
        finally:
            await _stop(process)
    finally:
        await _remove(profile)


async def _stop(process: asyncio.subprocess.Process) -> None:
    for stop in (None, process.terminate, process.kill):
        if stop is not None and process.returncode is None:
            stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)
            return


async def _remove(profile: Path) -> None:
    """Chromium's helper processes may outlive the browser by a moment: retry briefly."""
    for _ in range(50):
        try:
            await asyncio.to_thread(shutil.rmtree, profile)
            return
        except FileNotFoundError:
            return
        except OSError:
            await asyncio.sleep(0.1)
    await asyncio.to_thread(shutil.rmtree, profile, ignore_errors=True)


async def _devtools_url(profile: Path, process: asyncio.subprocess.Process) -> str:
    """Chromium writes its port and browser endpoint to DevToolsActivePort once listening."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + _START_SECONDS
    while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
        if process.returncode is not None:
            raise RuntimeError(f"chromium exited with {process.returncode} before listening")
        if time.monotonic() > deadline:
            raise RuntimeError("chromium did not open its DevTools port")
        await asyncio.sleep(0.05)
    port, path = port_file.read_text().splitlines()[:2]
    return f"ws://{LOOPBACK}:{port}{path}"
