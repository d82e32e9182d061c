// rtbench's reference server in Node.js: docs/contract.md implemented with what a Node team would
// use — node:http for short polling, long polling, SSE and publishing, the `ws` package for
// WebSocket. One process, one event loop, history kept per topic in memory.
//
//   node server.js [--port 0] [--host 127.0.0.1] [--ring 65536] [--paths contract|alt]
//                  [--ignore-cursor] [--drop-every N]   (deliberately broken variants)
//
// `--paths alt` serves the same contract at other URLs and with other event field names, the
// ones `alt-paths.toml` (rtbench's --target-file) describes: GET /api/TOPIC/poll?since=N,
// /api/TOPIC/wait?since=N&timeout_ms=M, /api/TOPIC/stream (Last-Event-ID), /api/TOPIC/socket?since=N,
// POST /api/TOPIC/publish, POST /api/schedule; events {"n","due_ns","data"}. The contract's own
// URLs then answer 404.
//
// Once listening it prints one JSON line on stdout: {"http":"127.0.0.1:PORT","pid":N}.
'use strict';

const http = require('node:http');
const { WebSocketServer } = require('ws');

const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_EVENTS_PER_RESPONSE = 1024;
const DEFAULT_LONGPOLL_MS = 30000;
const MAX_LONGPOLL_MS = 120000;
const SSE_KEEP_ALIVE_MS = 15000;
const TOPIC_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const CURSOR_RE = /^[0-9]{1,19}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', ring: 65536, ignoreCursor: false, dropEvery: 0, paths: 'contract' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--port') opts.port = Number(next());
    else if (a === '--host') opts.host = next();
    else if (a === '--ring') opts.ring = Number(next());
    else if (a === '--ignore-cursor') opts.ignoreCursor = true;
    else if (a === '--drop-every') opts.dropEvery = Number(next());
    else if (a === '--paths') opts.paths = next();
    else throw new Error(`unknown flag ${a}`);
  }
  if (!(opts.ring >= 1)) throw new Error('--ring must be at least 1');
  if (!['contract', 'alt'].includes(opts.paths)) throw new Error('--paths is contract or alt');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const ALT = opts.paths === 'alt';
// The event's field names: the contract's, or the alt variant's.
const FIELDS = ALT ? ['n', 'due_ns', 'data'] : ['seq', 't_pub_ns', 'payload'];

// CLOCK_MONOTONIC in nanoseconds (libuv's hrtime is CLOCK_MONOTONIC on Linux), as rtbench stamps.
const monoNs = () => process.hrtime.bigint();

/** One topic: its history (the last `opts.ring` events) and who waits for the next one. */
class Topic {
  constructor() {
    this.bodies = []; // encoded event bodies, oldest first
    this.firstSeq = 1; // seq of bodies[0]
    this.nextSeq = 1;
    this.listeners = new Set();
  }

  publish(tPubNs, payload) {
    const seq = this.nextSeq++;
    const body = `{"${FIELDS[0]}":${seq},"${FIELDS[1]}":${tPubNs},"${FIELDS[2]}":${JSON.stringify(payload)}}`;
    this.bodies.push(body);
    if (this.bodies.length > 2 * opts.ring) {
      const cut = this.bodies.length - opts.ring;
      this.bodies = this.bodies.slice(cut);
      this.firstSeq += cut;
    }
    for (const wake of [...this.listeners]) wake();
    return seq;
  }

  /** Events after `after`: how many fell out of history, and the [seq, body] pairs still held (at most `max`). */
  since(after, max) {
    if (opts.ignoreCursor) after = 0; // broken variant: every subscriber starts from the beginning
    const oldest = Math.max(this.firstSeq, this.nextSeq - opts.ring);
    const from = Math.max(after + 1, oldest);
    const dropped = after + 1 < oldest ? oldest - (after + 1) : 0;
    const out = [];
    for (let seq = from; seq < this.nextSeq && out.length < max; seq++) {
      if (opts.dropEvery > 0 && seq % opts.dropEvery === 0) continue; // broken variant
      out.push([seq, this.bodies[seq - this.firstSeq]]);
    }
    const last = Math.min(this.nextSeq - 1, from + max - 1);
    return { dropped, bodies: out, last: Math.max(after, last) };
  }
}

const topics = new Map();
function topic(name) {
  let t = topics.get(name);
  if (!t) topics.set(name, (t = new Topic()));
  return t;
}

class BadRequest extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function params(url) {
  const q = url.searchParams;
  const name = q.get('topic');
  if (name === null) throw new BadRequest(400, 'missing topic');
  if (!TOPIC_RE.test(name)) throw new BadRequest(400, 'topic must be 1..64 of [A-Za-z0-9_.-]');
  const cursor = (raw, what) => {
    if (raw === null || raw === undefined) return 0;
    if (!CURSOR_RE.test(raw)) throw new BadRequest(400, `${what} is not a sequence number`);
    return Number(raw);
  };
  return { name, cursor };
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function error(res, status, message) {
  send(res, status, 'application/json', JSON.stringify({ error: message }));
}

function pollBody(batch) {
  return `{"dropped":${batch.dropped},"events":[${batch.bodies.map((e) => e[1]).join(',')}]}`;
}

function shortPoll(req, res, url) {
  const p = params(url);
  const after = p.cursor(url.searchParams.get('after'), 'after');
  send(res, 200, 'application/json', pollBody(topic(p.name).since(after, MAX_EVENTS_PER_RESPONSE)));
}

function longPoll(req, res, url) {
  const p = params(url);
  const after = p.cursor(url.searchParams.get('after'), 'after');
  const timeoutMs = p.cursor(url.searchParams.get('timeout_ms'), 'timeout_ms') || DEFAULT_LONGPOLL_MS;
  if (timeoutMs > MAX_LONGPOLL_MS) throw new BadRequest(400, `timeout_ms over ${MAX_LONGPOLL_MS}`);
  const t = topic(p.name);
  const answer = () => {
    const batch = t.since(after, MAX_EVENTS_PER_RESPONSE);
    if (batch.bodies.length === 0 && batch.dropped === 0) return false;
    send(res, 200, 'application/json', pollBody(batch));
    return true;
  };
  if (answer()) return;
  const done = () => {
    t.listeners.delete(wake);
    clearTimeout(timer);
  };
  const wake = () => {
    if (answer()) done();
  };
  const timer = setTimeout(() => {
    done();
    send(res, 200, 'application/json', pollBody({ dropped: 0, bodies: [] }));
  }, timeoutMs);
  t.listeners.add(wake);
  req.on('close', done);
}

function sse(req, res, url) {
  const p = params(url);
  const header = req.headers['last-event-id'];
  const after = header !== undefined ? p.cursor(header, 'Last-Event-ID') : p.cursor(url.searchParams.get('after'), 'after');
  const t = topic(p.name);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('retry: 1000\n\n');
  let cursor = after;
  const flush = () => {
    for (;;) {
      const batch = t.since(cursor, MAX_EVENTS_PER_RESPONSE);
      if (batch.dropped > 0) res.write(`event: gap\ndata: {"dropped":${batch.dropped}}\n\n`);
      for (const [seq, body] of batch.bodies) res.write(`id: ${seq}\ndata: ${body}\n\n`);
      if (batch.last === cursor) return;
      cursor = opts.ignoreCursor ? t.nextSeq - 1 : batch.last;
      if (opts.ignoreCursor) return;
    }
  };
  flush();
  const keepAlive = setInterval(() => res.write(':\n\n'), SSE_KEEP_ALIVE_MS);
  const wake = () => {
    if (opts.ignoreCursor) {
      // the broken variant still streams live events, it only ignores the cursor it was given
      const seq = t.nextSeq - 1;
      if (!(opts.dropEvery > 0 && seq % opts.dropEvery === 0)) {
        res.write(`id: ${seq}\ndata: ${t.bodies[seq - t.firstSeq]}\n\n`);
      }
      cursor = seq;
      return;
    }
    flush();
  };
  t.listeners.add(wake);
  req.on('close', () => {
    t.listeners.delete(wake);
    clearInterval(keepAlive);
  });
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new BadRequest(413, `payload over ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function publish(req, res, url) {
  const p = params(url);
  const bytes = await readBody(req, MAX_PAYLOAD_BYTES);
  let payload;
  try {
    payload = utf8.decode(bytes);
  } catch {
    throw new BadRequest(400, 'payload is not UTF-8');
  }
  const seq = topic(p.name).publish(monoNs(), payload);
  send(res, 200, 'application/json', `{"seq":${seq}}`);
}

function makePayload(seq, len) {
  const offset = Number(BigInt(seq) % BigInt(ALPHABET.length));
  let out = '';
  for (let i = 0; i < len; i++) out += ALPHABET[(offset + i) % ALPHABET.length];
  return out;
}

// The server's own publisher (stamping mode "server"): event k is stamped with its scheduled time.
async function schedule(req, res) {
  const r = JSON.parse((await readBody(req, 64 * 1024)).toString() || 'null');
  if (!r || !TOPIC_RE.test(r.topic) || !(r.rate_per_s > 0) || !(r.events > 0)) {
    throw new BadRequest(400, 'schedule needs topic, rate_per_s > 0, events > 0');
  }
  const t = topic(r.topic);
  const periodNs = BigInt(Math.round(1e9 / r.rate_per_s));
  const startNs = monoNs() + BigInt(r.start_in_ms || 0) * 1000000n;
  const firstSeq = t.nextSeq;
  let k = 0;
  const tick = () => {
    const now = monoNs();
    while (k < r.events && startNs + BigInt(k) * periodNs <= now) {
      const due = startNs + BigInt(k) * periodNs;
      t.publish(due, makePayload(t.nextSeq, r.payload_bytes || 0));
      k++;
    }
    if (k < r.events) {
      const waitMs = Number(startNs + BigInt(k) * periodNs - monoNs()) / 1e6;
      setTimeout(tick, Math.max(0, Math.floor(waitMs)));
    }
  };
  setTimeout(tick, 0);
  send(res, 200, 'application/json', JSON.stringify({
    topic: r.topic, start_mono_ns: Number(startNs), period_ns: Number(periodNs),
    first_seq: firstSeq, last_seq: firstSeq + r.events - 1,
  }));
}

const routes = {
  'GET /poll': shortPoll,
  'GET /longpoll': longPoll,
  'GET /sse': sse,
  'POST /publish': publish,
  'POST /schedule': schedule,
  'GET /healthz': (req, res) => send(res, 200, 'text/plain', 'ok'),
  'GET /settings': (req, res) => send(res, 200, 'application/json', JSON.stringify({
    server: 'rtbench-reference-node', settings: { ring_capacity: opts.ring },
  })),
};

// `--paths alt`: /api/TOPIC/ACTION?since=N is read as the contract's /PATH?topic=TOPIC&after=N, and
// the contract's own paths are not served.
const ALT_ACTIONS = { poll: '/poll', wait: '/longpoll', stream: '/sse', socket: '/ws', publish: '/publish' };
function requestUrl(req) {
  const url = new URL(req.url, 'http://localhost');
  if (!ALT || url.pathname === '/healthz' || url.pathname === '/settings') return url;
  if (url.pathname === '/api/schedule') {
    url.pathname = '/schedule';
    return url;
  }
  const m = /^\/api\/([^/]*)\/([a-z]+)$/.exec(url.pathname);
  if (!m || !ALT_ACTIONS[m[2]]) {
    url.pathname = `/not-served${url.pathname}`;
    return url;
  }
  url.pathname = ALT_ACTIONS[m[2]];
  url.searchParams.set('topic', decodeURIComponent(m[1]));
  const since = url.searchParams.get('since');
  url.searchParams.delete('since');
  if (since !== null) url.searchParams.set('after', since);
  return url;
}

const server = http.createServer(async (req, res) => {
  const url = requestUrl(req);
  const handler = routes[`${req.method} ${url.pathname}`];
  try {
    if (!handler) return error(res, 404, `no ${req.method} ${url.pathname}`);
    await handler(req, res, url);
  } catch (e) {
    if (res.headersSent) return res.destroy();
    if (e instanceof BadRequest) return error(res, e.status, e.message);
    if (e instanceof SyntaxError) return error(res, 400, 'body is not JSON');
    error(res, 500, String(e));
  }
});
server.keepAliveTimeout = 60000;

const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES });
server.on('upgrade', (req, socket, head) => {
  const url = requestUrl(req);
  let p, after, publishTo;
  try {
    if (url.pathname !== '/ws') throw new BadRequest(404, 'no such endpoint');
    p = params(url);
    after = p.cursor(url.searchParams.get('after'), 'after');
    publishTo = url.searchParams.get('publish_to') || p.name;
    if (!TOPIC_RE.test(publishTo)) throw new BadRequest(400, 'bad publish_to');
  } catch (e) {
    const status = e.status || 400;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => websocket(ws, topic(p.name), after, topic(publishTo)));
});

function websocket(ws, t, after, publishTopic) {
  let cursor = after;
  const flush = () => {
    for (;;) {
      const batch = t.since(cursor, MAX_EVENTS_PER_RESPONSE);
      if (batch.dropped > 0) ws.send(`{"dropped":${batch.dropped}}`);
      for (const [, body] of batch.bodies) ws.send(body);
      if (batch.last === cursor || opts.ignoreCursor) {
        cursor = Math.max(cursor, batch.last);
        return;
      }
      cursor = batch.last;
    }
  };
  const wake = () => {
    if (opts.ignoreCursor) {
      const seq = t.nextSeq - 1;
      if (!(opts.dropEvery > 0 && seq % opts.dropEvery === 0)) ws.send(t.bodies[seq - t.firstSeq]);
      return;
    }
    flush();
  };
  flush();
  t.listeners.add(wake);
  ws.on('message', (data, isBinary) => {
    if (!isBinary) publishTopic.publish(monoNs(), data.toString());
  });
  ws.on('close', () => t.listeners.delete(wake));
  ws.on('error', () => t.listeners.delete(wake));
}

server.listen(opts.port, opts.host, () => {
  const a = server.address();
  process.stdout.write(`${JSON.stringify({ http: `${a.address}:${a.port}`, pid: process.pid })}\n`);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
