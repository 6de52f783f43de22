"""A minimal Chrome DevTools Protocol driver for the report's browser test.

Launches the system's headless Chromium (Debian package ``chromium``) with a fresh
profile, opens a page from a file and records every network request, console message
and uncaught exception. Uses aiohttp's websocket client (already installed with
inspect-ai), so no browser download and no extra package.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--remote-debugging-port=0",
]


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageVisit:
    """What happened while a page was open."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    evaluated: object = None
    screenshot: bytes = b""
    pdf: bytes = b""


class _Session:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, visit: PageVisit) -> None:
        self.ws, self.visit, self.next_id = ws, visit, 0
        self.pending: dict[int, asyncio.Future] = {}
        self.events: dict[str, asyncio.Event] = {}

    async def pump(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
                continue
            method, params = data.get("method"), data.get("params", {})
            if method == "Network.requestWillBeSent":
                self.visit.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                self.visit.console_errors.append(
                    " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                self.visit.exceptions.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                self.visit.console_errors.append(params["entry"].get("text", ""))
            if method in self.events:
                self.events[method].set()

    async def send(self, method: str, **params) -> dict:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})


async def _visit(ws_url: str, url: str, script: str, width: int, height: int) -> PageVisit:
    visit = PageVisit()
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(ws_url, max_msg_size=0) as ws:
            session = _Session(ws, visit)
            pump = asyncio.create_task(session.pump())
            loaded = session.events.setdefault("Page.loadEventFired", asyncio.Event())
            for domain in ("Page", "Network", "Runtime", "Log"):
                await session.send(f"{domain}.enable")
            await session.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            await session.send("Page.navigate", url=url)
            await asyncio.wait_for(loaded.wait(), 60)
            result = await session.send("Runtime.evaluate", expression=script, returnByValue=True)
            visit.evaluated = result["result"].get("value")
            metrics = await session.send("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            shot = await session.send(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
            )
            visit.screenshot = __import__("base64").b64decode(shot["data"])
            pdf = await session.send("Page.printToPDF", printBackground=True)
            visit.pdf = __import__("base64").b64decode(pdf["data"])
            await asyncio.sleep(0.2)  # let late console events arrive
            pump.cancel()
    return visit


def open_page(path: Path, script: str, width: int = 1280, height: int = 900) -> PageVisit:
    """Open ``path`` in headless Chromium, run ``script``, screenshot and print it.

    Args:
        path: the HTML file.
        script: a JavaScript expression whose (JSON-able) value is returned.
        width, height: the viewport in CSS pixels.

    Returns:
        The :class:`PageVisit` (requests, console errors, exceptions, script value, a
        full-page PNG screenshot and the printed PDF).

    Raises:
        RuntimeError: Chromium is missing or does not start.
    """
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("chromium not found (Debian package 'chromium')")
    profile = tempfile.mkdtemp(prefix="rdbench-chromium-")
    proc = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}")
            match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if match:
                port = int(match.group(1))
        if port is None:
            raise RuntimeError("chromium did not report its DevTools port")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
            targets = json.load(r)
        page = next(t for t in targets if t.get("type") == "page")
        return asyncio.run(
            _visit(page["webSocketDebuggerUrl"], path.resolve().as_uri(), script, width, height)
        )
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
