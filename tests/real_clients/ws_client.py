"""Prints each of the first N messages a WebSocket sends, one per line (Python `websockets`)."""
import asyncio
import sys

import websockets


async def main(url, count):
    async with websockets.connect(url) as ws:
        for _ in range(count):
            print(await asyncio.wait_for(ws.recv(), 30), flush=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
