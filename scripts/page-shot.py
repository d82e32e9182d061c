#!/usr/bin/env python3
"""Screenshot a page after it has run for some real seconds, with headless Chromium over the
DevTools protocol (`--screenshot` alone uses virtual time, in which a live page's events never
arrive).

    scripts/page-shot.py URL OUT.png [--seconds 5] [--size 1400,900]

Needs Chromium (Debian's `chromium`) and the `websockets` package (e.g. the venv the third-party
client tests make under target/py-venv). Used for docs/live-page.png:

    rtbench serve --addr 127.0.0.1:8080 &
    target/py-venv/bin/python scripts/page-shot.py 'http://127.0.0.1:8080/?autostart' docs/live-page.png
"""

import argparse
import asyncio
import base64
import json
import re
import shutil
import subprocess
import tempfile
import urllib.request

import websockets


def start_chromium(width, height, profile):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("page-shot: no chromium on PATH")
    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={width},{height}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        found = re.search(r"DevTools listening on (ws://[^\s]+)", line)
        if found:
            return proc, found.group(1)
    raise SystemExit("page-shot: chromium did not start its DevTools endpoint")


async def shoot(devtools, url, out, seconds, width, height):
    port = re.search(r":(\d+)/", devtools).group(1)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
        page = next(t for t in json.load(r) if t["type"] == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=64 << 20) as ws:
        ids = iter(range(1, 1_000_000))

        async def call(method, **params):
            n = next(ids)
            await ws.send(json.dumps({"id": n, "method": method, "params": params}))
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if reply.get("id") == n:
                    if "error" in reply:
                        raise SystemExit(f"page-shot: {method}: {reply['error']}")
                    return reply["result"]

        await call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                   deviceScaleFactor=1, mobile=False)
        await call("Page.navigate", url=url)
        await asyncio.sleep(seconds)
        shot = await call("Page.captureScreenshot", format="png")
        with open(out, "wb") as f:
            f.write(base64.b64decode(shot["data"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--size", default="1400,900")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split(","))
    with tempfile.TemporaryDirectory() as profile:
        proc, devtools = start_chromium(width, height, profile)
        try:
            asyncio.run(asyncio.wait_for(
                shoot(devtools, args.url, args.out, args.seconds, width, height),
                args.seconds + 60))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"page-shot: {args.out}")


if __name__ == "__main__":
    main()
