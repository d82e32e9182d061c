// rtbench live page: four browser clients (EventSource, WebSocket, fetch long-poll, fetch
// short-poll) on one topic. Latency of a delivery = its arrival on this page's monotonic clock
// (performance.now()) plus the measured offset to the server's CLOCK_MONOTONIC, minus the
// event's scheduled publication time t_pub_ns. The offset comes from GET /clock exchanges:
// offset = server - (t0 + t1) / 2, uncertainty = (t1 - t0) / 2, keeping the smallest round trip.
'use strict';

const $ = (id) => document.getElementById(id);
const SHORT_POLL_MS = 250;
const LONG_POLL_TIMEOUT_MS = 25000;
const RECENT = 200; // latencies kept for the percentiles shown
const RATE_WINDOW_MS = 5000;
const LOG_LINES = 12;
const encoder = new TextEncoder();
const byteLength = (text) => encoder.encode(text).length;

// ---- the clock offset ---------------------------------------------------------------------
const clock = { offsetMs: null, uncertaintyMs: null, rttMs: Infinity, pings: 0 };

async function ping() {
  const t0 = performance.now();
  const response = await fetch('/clock', { cache: 'no-store' });
  const text = await response.text();
  const t1 = performance.now();
  const serverMs = JSON.parse(text).mono_ns / 1e6;
  clock.pings += 1;
  if (t1 - t0 < clock.rttMs) {
    clock.rttMs = t1 - t0;
    clock.offsetMs = serverMs - (t0 + t1) / 2;
    clock.uncertaintyMs = (t1 - t0) / 2;
  }
}

async function measureClock(pings) {
  for (let i = 0; i < pings; i++) {
    try { await ping(); } catch (e) { /* shown as 'measuring' until one succeeds */ }
  }
  const el = $('clock');
  if (clock.offsetMs === null) { el.textContent = 'clock offset: measuring…'; return; }
  el.textContent = `clock offset to server CLOCK_MONOTONIC: ${clock.offsetMs.toFixed(3)} ms ` +
    `± ${clock.uncertaintyMs.toFixed(3)} ms (best of ${clock.pings} pings to /clock, ` +
    `round trip ${clock.rttMs.toFixed(3)} ms) — every latency below carries this ± uncertainty`;
}

const serverNowMs = () => performance.now() + clock.offsetMs;

// ---- lanes ---------------------------------------------------------------------------------
const LANES = [
  { id: 'sse', name: 'EventSource', how: 'GET /sse — text/event-stream, one connection', colour: '#009E73' },
  { id: 'ws', name: 'WebSocket', how: 'GET /ws upgrade — one text message per event', colour: '#0072B2' },
  { id: 'longpoll', name: 'fetch long-poll', how: `GET /longpoll — held until an event (≤ ${LONG_POLL_TIMEOUT_MS / 1000} s)`, colour: '#E69F00' },
  { id: 'poll', name: 'fetch short-poll', how: `GET /poll every ${SHORT_POLL_MS} ms`, colour: '#CC3D8F' },
];
const lanes = {};
let generation = 0;

function newLane(spec) {
  return { spec, events: 0, lastSeq: null, gaps: 0, disorder: 0, latencies: [], maxMs: null,
    lastMs: null, arrivals: [], bodyBytes: 0, transferBytes: 0, transferCount: 0,
    log: [], state: 'waiting', ok: true };
}

function buildLanes() {
  const main = $('lanes');
  main.innerHTML = '';
  for (const spec of LANES) {
    lanes[spec.id] = newLane(spec);
    const div = document.createElement('div');
    div.className = 'lane';
    div.style.setProperty('--c', spec.colour);
    div.innerHTML = `<h2>${spec.name}</h2><div class="how">${spec.how}</div>
      <div class="state" id="${spec.id}-state"></div>
      <div class="big" id="${spec.id}-big">—</div>
      <dl class="stats" id="${spec.id}-stats"></dl>
      <ul class="log" id="${spec.id}-log"></ul>`;
    main.appendChild(div);
  }
}

// One delivery: an event body (parsed) or a gap notice, as it arrived now.
function deliver(lane, message) {
  const now = performance.now();
  if (message.dropped !== undefined) {
    lane.gaps += message.dropped;
    lane.log.unshift({ gap: true, text: `gap: ${message.dropped} events dropped` });
    return;
  }
  const seq = message.seq;
  if (lane.lastSeq !== null && seq !== lane.lastSeq + 1) {
    if (seq <= lane.lastSeq) lane.disorder += 1; else lane.gaps += seq - lane.lastSeq - 1;
  }
  lane.lastSeq = Math.max(seq, lane.lastSeq ?? seq);
  lane.events += 1;
  lane.arrivals.push(now);
  let text = '—';
  if (clock.offsetMs !== null) {
    const latencyMs = serverNowMs() - message.t_pub_ns / 1e6;
    lane.lastMs = latencyMs;
    lane.maxMs = Math.max(lane.maxMs ?? latencyMs, latencyMs);
    lane.latencies.push(latencyMs);
    if (lane.latencies.length > RECENT) lane.latencies.shift();
    text = `${latencyMs.toFixed(2)} ms`;
  }
  lane.log.unshift({ gap: false, text: `#${seq}`, latency: text });
  if (lane.log.length > LOG_LINES) lane.log.length = LOG_LINES;
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const ms = (v) => (v === null ? '—' : `${v.toFixed(2)} ms`);

function render() {
  const now = performance.now();
  for (const lane of Object.values(lanes)) {
    const id = lane.spec.id;
    while (lane.arrivals.length && lane.arrivals[0] < now - RATE_WINDOW_MS) lane.arrivals.shift();
    const rate = lane.arrivals.length / (RATE_WINDOW_MS / 1000);
    const p50 = percentile(lane.latencies, 0.5);
    const state = $(`${id}-state`);
    const order = lane.gaps === 0 && lane.disorder === 0;
    state.textContent = `${lane.state} · ${order ? 'sequence in order' : `gaps ${lane.gaps}, out of order ${lane.disorder}`}`;
    state.className = `state ${order ? 'ok' : 'bad'}`;
    $(`${id}-big`).innerHTML = p50 === null ? '—' : `${p50.toFixed(2)} <small>ms p50 latency</small>`;
    const rows = [
      ['events', lane.events],
      ['events/s (5 s)', rate.toFixed(1)],
      ['latency last', ms(lane.lastMs)],
      ['latency p99 / max', `${ms(percentile(lane.latencies, 0.99))} / ${ms(lane.maxMs)}`],
      ['body bytes', lane.bodyBytes.toLocaleString('en')],
      ['transfer bytes', lane.transferCount ? `${lane.transferBytes.toLocaleString('en')} (${lane.transferCount} fetches)` : 'n/a'],
    ];
    $(`${id}-stats`).innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
    $(`${id}-log`).innerHTML = lane.log.map((e) => e.gap
      ? `<li class="gap"><span>${e.text}</span></li>`
      : `<li><span>${e.text}</span><span>${e.latency}</span></li>`).join('');
  }
}

// ---- the four clients -----------------------------------------------------------------------
const query = (topic, after) => `topic=${encodeURIComponent(topic)}&after=${after}`;
const sleep = (millis) => new Promise((resolve) => setTimeout(resolve, millis));

function runSse(gen, topic, after) {
  const lane = lanes.sse;
  const source = new EventSource(`/sse?${query(topic, after)}`);
  lane.state = 'connecting';
  source.onopen = () => { lane.state = 'open'; };
  source.onerror = () => { lane.state = 'reconnecting (Last-Event-ID)'; };
  source.onmessage = (e) => {
    if (gen !== generation) { source.close(); return; }
    lane.bodyBytes += byteLength(e.data);
    deliver(lane, JSON.parse(e.data));
  };
  return () => source.close();
}

function runWebSocket(gen, topic, after) {
  const lane = lanes.ws;
  let socket = null;
  let closed = false;
  const open = () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/ws?${query(topic, lane.lastSeq ?? after)}`);
    lane.state = 'connecting';
    socket.onopen = () => { lane.state = 'open'; };
    socket.onmessage = (e) => {
      lane.bodyBytes += byteLength(e.data);
      deliver(lane, JSON.parse(e.data));
    };
    socket.onclose = () => {
      if (closed || gen !== generation) return;
      lane.state = 'reconnecting (cursor)';
      setTimeout(open, 500);
    };
  };
  open();
  return () => { closed = true; socket.close(); };
}

async function fetchLoop(gen, lane, path, topic, after, extra, pauseMs) {
  let cursor = after;
  lane.state = 'polling';
  while (gen === generation) {
    try {
      const response = await fetch(`${path}?${query(topic, cursor)}${extra}`, { cache: 'no-store' });
      const text = await response.text();
      if (gen !== generation) return;
      lane.bodyBytes += byteLength(text);
      const answer = JSON.parse(text);
      if (answer.dropped) deliver(lane, { dropped: answer.dropped });
      for (const event of answer.events) { deliver(lane, event); cursor = event.seq; }
      lane.state = 'polling';
    } catch (e) {
      lane.state = 'retrying';
      await sleep(1000);
    }
    if (pauseMs) await sleep(pauseMs);
  }
}

// Resource Timing: what the browser reports as transferred for each finished fetch of a lane.
function watchTransfers() {
  if (!('PerformanceObserver' in window)) return;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const path = new URL(entry.name).pathname;
      const lane = path === '/longpoll' ? lanes.longpoll : path === '/poll' ? lanes.poll : null;
      if (lane && entry.transferSize > 0) { lane.transferBytes += entry.transferSize; lane.transferCount += 1; }
    }
    performance.clearResourceTimings();
  }).observe({ type: 'resource', buffered: true });
}

let stops = [];
function subscribe(topic, after) {
  generation += 1;
  const gen = generation;
  stops.forEach((stop) => stop());
  buildLanes();
  stops = [runSse(gen, topic, after), runWebSocket(gen, topic, after)];
  fetchLoop(gen, lanes.longpoll, '/longpoll', topic, after, `&timeout_ms=${LONG_POLL_TIMEOUT_MS}`, 0);
  fetchLoop(gen, lanes.poll, '/poll', topic, after, '', SHORT_POLL_MS);
}

// ---- the demo publisher --------------------------------------------------------------------
async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return JSON.parse(text);
}

async function startDemo() {
  const request = { topic: $('topic').value, rate_per_s: Number($('rate').value),
    seconds: Number($('seconds').value), payload_bytes: Number($('payload').value) };
  try {
    if (clock.offsetMs === null) await measureClock(8);
    const started = await post('/demo/start', request);
    subscribe(started.topic, started.after);
    $('status').textContent = `publishing ${started.events} events to '${started.topic}' at ${request.rate_per_s}/s`;
  } catch (e) {
    $('status').textContent = `demo refused: ${e.message}`;
  }
}

async function stopDemo() {
  try {
    const answer = await post('/demo/stop', {});
    $('status').textContent = answer.stopped ? 'demo publisher stopped' : 'no demo publisher was running';
  } catch (e) {
    $('status').textContent = `stop refused: ${e.message}`;
  }
}

$('start').onclick = startDemo;
$('stop').onclick = stopDemo;
buildLanes();
watchTransfers();
setInterval(render, 250);
measureClock(8).then(() => setInterval(() => measureClock(2), 5000));
// ?topic=&rate=&seconds=&payload= fill the form; ?autostart starts the demo at once (for the
// screenshot in docs/live-page.png).
const params = new URLSearchParams(location.search);
for (const [param, input] of [['topic', 'topic'], ['rate', 'rate'], ['seconds', 'seconds'], ['payload', 'payload']]) {
  if (params.has(param)) $(input).value = params.get(param);
}
if (params.has('autostart')) startDemo();
