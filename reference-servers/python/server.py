"""rtbench's reference server in Python: docs/contract.md implemented with what a Python team would
use -- Starlette routes on uvicorn (h11 for HTTP/1.1, the `websockets` package for WebSocket).
One process, one asyncio event loop, history kept per topic in memory.

    python server.py [--port 0] [--host 127.0.0.1] [--ring 65536]

Once listening it prints one JSON line on stdout: {"http":"127.0.0.1:PORT","pid":N}.
"""

import argparse
import asyncio
import json
import os
import re
import socket
import sys
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_EVENTS_PER_RESPONSE = 1024
DEFAULT_LONGPOLL_MS = 30_000
MAX_LONGPOLL_MS = 120_000
SSE_KEEP_ALIVE_S = 15.0
TOPIC_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CURSOR_RE = re.compile(r"^[0-9]{1,19}$")
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

RING = 65_536


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Topic:
    """One topic: its history (the last RING events) and a wake-up for whoever waits."""

    def __init__(self):
        self.bodies = []  # encoded event bodies (bytes), oldest first
        self.first_seq = 1  # seq of bodies[0]
        self.next_seq = 1
        self.changed = asyncio.Event()

    def publish(self, t_pub_ns, payload):
        seq = self.next_seq
        self.next_seq += 1
        body = '{"seq":%d,"t_pub_ns":%d,"payload":%s}' % (
            seq, t_pub_ns, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
        self.bodies.append(body.encode())
        if len(self.bodies) > 2 * RING:
            cut = len(self.bodies) - RING
            del self.bodies[:cut]
            self.first_seq += cut
        self.changed.set()
        self.changed = asyncio.Event()
        return seq

    def since(self, after, limit=MAX_EVENTS_PER_RESPONSE):
        """(dropped, [(seq, body)], last): events after `after` still held, and how many are gone."""
        oldest = max(self.first_seq, self.next_seq - RING)
        start = max(after + 1, oldest)
        dropped = oldest - (after + 1) if after + 1 < oldest else 0
        end = min(self.next_seq, start + limit)
        events = [(s, self.bodies[s - self.first_seq]) for s in range(start, end)]
        return dropped, events, max(after, end - 1)


TOPICS = {}


def topic(name):
    t = TOPICS.get(name)
    if t is None:
        t = TOPICS[name] = Topic()
    return t


def topic_name(params):
    name = params.get("topic")
    if name is None:
        raise BadRequest(400, "missing topic")
    if not TOPIC_RE.match(name):
        raise BadRequest(400, "topic must be 1..64 of [A-Za-z0-9_.-]")
    return name


def cursor(raw, what):
    if raw is None:
        return 0
    if not CURSOR_RE.match(raw):
        raise BadRequest(400, f"{what} is not a sequence number")
    return int(raw)


def poll_body(dropped, events):
    return b'{"dropped":%d,"events":[%s]}' % (dropped, b",".join(b for _, b in events))


def json_bytes(body):
    return Response(body, media_type="application/json")


def guarded(handler):
    async def wrapped(request):
        try:
            return await handler(request)
        except BadRequest as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
    return wrapped


@guarded
async def short_poll(request: Request):
    t = topic(topic_name(request.query_params))
    dropped, events, _ = t.since(cursor(request.query_params.get("after"), "after"))
    return json_bytes(poll_body(dropped, events))


@guarded
async def long_poll(request: Request):
    q = request.query_params
    t = topic(topic_name(q))
    after = cursor(q.get("after"), "after")
    timeout_ms = cursor(q.get("timeout_ms"), "timeout_ms") or DEFAULT_LONGPOLL_MS
    if timeout_ms > MAX_LONGPOLL_MS:
        raise BadRequest(400, f"timeout_ms over {MAX_LONGPOLL_MS}")
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        dropped, events, _ = t.since(after)
        if dropped or events:
            return json_bytes(poll_body(dropped, events))
        left = deadline - time.monotonic()
        if left <= 0:
            return json_bytes(poll_body(0, []))
        try:
            await asyncio.wait_for(t.changed.wait(), left)
        except asyncio.TimeoutError:
            pass


@guarded
async def sse(request: Request):
    q = request.query_params
    t = topic(topic_name(q))
    header = request.headers.get("last-event-id")
    after = cursor(header, "Last-Event-ID") if header is not None else cursor(q.get("after"), "after")

    async def stream():
        nonlocal after
        yield b"retry: 1000\n\n"
        while True:
            dropped, events, after = t.since(after)
            if dropped:
                yield b'event: gap\ndata: {"dropped":%d}\n\n' % dropped
            for seq, body in events:
                yield b"id: %d\ndata: %s\n\n" % (seq, body)
            if events or dropped:
                continue
            try:
                await asyncio.wait_for(t.changed.wait(), SSE_KEEP_ALIVE_S)
            except asyncio.TimeoutError:
                yield b":\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache"})


async def read_body(request, limit):
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, f"payload over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@guarded
async def publish(request: Request):
    t = topic(topic_name(request.query_params))
    raw = await read_body(request, MAX_PAYLOAD_BYTES)
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "payload is not UTF-8")
    seq = t.publish(time.monotonic_ns(), payload)
    return json_bytes(b'{"seq":%d}' % seq)


def make_payload(seq, length):
    offset = seq % len(ALPHABET)
    return "".join(ALPHABET[(offset + i) % len(ALPHABET)] for i in range(length))


@guarded
async def schedule(request: Request):
    """The server's own publisher (stamping mode "server"): event k carries its scheduled time."""
    try:
        r = json.loads(await read_body(request, 64 * 1024))
    except ValueError:
        raise BadRequest(400, "body is not JSON")
    if not (isinstance(r, dict) and TOPIC_RE.match(str(r.get("topic", "")))
            and r.get("rate_per_s", 0) > 0 and r.get("events", 0) > 0):
        raise BadRequest(400, "schedule needs topic, rate_per_s > 0, events > 0")
    t = topic(r["topic"])
    period_ns = round(1e9 / r["rate_per_s"])
    start_ns = time.monotonic_ns() + int(r.get("start_in_ms", 0)) * 1_000_000
    first_seq = t.next_seq

    async def run():
        for k in range(r["events"]):
            due = start_ns + k * period_ns
            wait = (due - time.monotonic_ns()) / 1e9
            if wait > 0:
                await asyncio.sleep(wait)
            t.publish(due, make_payload(t.next_seq, int(r.get("payload_bytes", 0))))

    asyncio.get_running_loop().create_task(run())
    return JSONResponse({"topic": r["topic"], "start_mono_ns": start_ns, "period_ns": period_ns,
                         "first_seq": first_seq, "last_seq": first_seq + r["events"] - 1})


async def ws_endpoint(ws: WebSocket):
    q = ws.query_params
    try:
        t = topic(topic_name(q))
        after = cursor(q.get("after"), "after")
        publish_to = topic(topic_name({"topic": q.get("publish_to", q.get("topic"))}))
    except BadRequest:
        await ws.close(code=1008)
        return
    await ws.accept()

    async def down():
        nonlocal after
        while True:
            dropped, events, after = t.since(after)
            if dropped:
                await ws.send_text('{"dropped":%d}' % dropped)
            for _, body in events:
                await ws.send_text(body.decode())
            if not (events or dropped):
                await t.changed.wait()

    sender = asyncio.get_running_loop().create_task(down())
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
            if msg.get("text") is not None:
                publish_to.publish(time.monotonic_ns(), msg["text"])
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()


async def healthz(_request):
    return PlainTextResponse("ok")


async def settings(_request):
    return JSONResponse({"server": "rtbench-reference-python", "settings": {"ring_capacity": RING}})


app = Starlette(routes=[
    Route("/poll", short_poll, methods=["GET"]),
    Route("/longpoll", long_poll, methods=["GET"]),
    Route("/sse", sse, methods=["GET"]),
    Route("/publish", publish, methods=["POST"]),
    Route("/schedule", schedule, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/settings", settings, methods=["GET"]),
    WebSocketRoute("/ws", ws_endpoint),
])


def main():
    global RING
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ring", type=int, default=RING)
    args = parser.parse_args()
    RING = max(1, args.ring)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(4096)
    host, port = sock.getsockname()[:2]
    print(json.dumps({"http": f"{host}:{port}", "pid": os.getpid()}), flush=True)
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", http="h11",
                            ws_per_message_deflate=False, ws_max_size=MAX_PAYLOAD_BYTES,
                            access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
