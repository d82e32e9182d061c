// rtbench's browser clients: evaluated in a page of the server's own origin (so the browser sends
// no Origin on its GETs and they are served as rtbench's own clients' are), one client per
// transport per page. rtbenchOpen(cfg) measures the clock offset (GET /clock, smallest round trip
// kept) and resolves when every client is subscribed; rtbenchWindow(fromNs, toNs) gives the
// measured window, in the server's CLOCK_MONOTONIC, once the schedule is known; rtbenchResults()
// resolves when each client has received the topic's events up to cfg.last_seq, or at
// cfg.deadline_ms, with what each saw: counts and an HdrHistogram of latencies (rtbenchHistogram
// encodes one, for tests).
//
// The window rule is the Rust clients' (crates/loadgen/src/latency_sink.rs): a delivery is
// measured (counted, its latency recorded) when its event's *scheduled* time t_pub_ns lies in
// [fromNs, toNs). t_pub_ns is the server's clock, carried in the event, so the comparison needs no
// clock offset; the offset enters only the latency. A delivery that arrives before the window is
// known waits in `pending` until rtbenchWindow classifies it. Every delivery, warm-up and tail
// included, is checked for order and loss.
'use strict';
(() => {
  const state = { offsetMs: 0, uncertaintyMs: 0, clients: [], sockets: [], closing: false,
    window: null };

  async function measureClock(pings) {
    let best = Infinity;
    for (let i = 0; i < pings; i++) {
      const t0 = performance.now();
      // The last ping closes its connection (/clock?close): the event clients then open their
      // own, and the server's meter counts each under its transport.
      const path = i === pings - 1 ? '/clock?close' : '/clock';
      const text = await (await fetch(path, { cache: 'no-store' })).text();
      const t1 = performance.now();
      if (t1 - t0 < best) {
        best = t1 - t0;
        state.offsetMs = JSON.parse(text).mono_ns / 1e6 - (t0 + t1) / 2;
        state.uncertaintyMs = (t1 - t0) / 2;
      }
    }
  }

  // HdrHistogram of latencies in nanoseconds with rtbench's bounds (1 ns .. 60 s, 3 significant
  // digits: `rtbench_results::histogram`), kept as sparse counts under the hdrhistogram crate's
  // counts index (unit magnitude 0, sub-bucket half count 2^10, so bucket = 53 − the value's
  // leading zeros, computed on doubles: values reach 2^36). Handed back in the crate's V2
  // encoding, uncompressed, in base64: the crate's Deserializer reads it as it is.
  const HIST_LOW_NS = 1;
  const HIST_HIGH_NS = 60e9;
  const HIST_DIGITS = 3;
  function countsIndex(ns) {
    const v = Math.max(ns, 2047); // ns | sub_bucket_mask has the same top bit
    const hi = Math.floor(v / 4294967296);
    const leadingZeros = hi > 0 ? Math.clz32(hi) : 32 + Math.clz32(v);
    const bucket = 53 - leadingZeros;
    const sub = Math.floor(ns / 2 ** bucket);
    return (bucket + 1) * 1024 + sub - 1024;
  }
  function newHistogram() {
    const counts = new Map();
    return {
      counts,
      record(ns) {
        const v = Math.min(HIST_HIGH_NS, Math.max(HIST_LOW_NS, Math.round(ns)));
        const i = countsIndex(v);
        counts.set(i, (counts.get(i) || 0) + 1);
      },
    };
  }
  function varint(out, n) {
    let z = n >= 0 ? 2 * n : -2 * n - 1; // zig-zag
    while (z >= 128) { out.push((z % 128) | 128); z = Math.floor(z / 128); }
    out.push(z);
  }
  function encodeHistogram(h) {
    const payload = [];
    let next = 0;
    for (const i of [...h.counts.keys()].sort((a, b) => a - b)) {
      if (i > next) varint(payload, -(i - next)); // a run of empty counts
      varint(payload, h.counts.get(i));
      next = i + 1;
    }
    const bytes = new Uint8Array(40 + payload.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0x1c849313); // V2 cookie
    view.setUint32(4, payload.length);
    view.setUint32(8, 0); // normalizing index offset
    view.setUint32(12, HIST_DIGITS);
    view.setBigUint64(16, BigInt(HIST_LOW_NS));
    view.setBigUint64(24, BigInt(HIST_HIGH_NS));
    view.setFloat64(32, 1.0); // integer-to-double ratio
    bytes.set(payload, 40);
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  }
  window.rtbenchHistogram = (valuesNs) => {
    const h = newHistogram();
    valuesNs.forEach((v) => h.record(v));
    return encodeHistogram(h);
  };

  // What one client saw; deliver() is called with each parsed message as it arrives.
  function newClient(transport, cfg) {
    const c = { transport, expected: cfg.after + 1, histogram: newHistogram(), seen: new Set(),
      deliveries: 0, windowDeliveries: 0, pending: [], gaps: 0, duplicated: 0, reordered: 0,
      dropped: 0, reconnects: 0, done: null, finish: null, finished: false, cursor: cfg.after };
    // A first receipt scheduled at tPubNs, latencyNs late: measured when inside the window.
    c.measure = (tPubNs, latencyNs) => {
      if (state.window === null) { c.pending.push([tPubNs, latencyNs]); return; }
      if (tPubNs >= state.window.fromNs && tPubNs < state.window.toNs) {
        c.windowDeliveries += 1;
        c.histogram.record(latencyNs);
      }
    };
    // finished is set at once (not in a promise callback), so a poll loop stops before its next
    // request once the last event arrived.
    c.done = new Promise((resolve) => { c.finish = () => { c.finished = true; resolve(); }; });
    c.deliver = (m) => {
      const nowMs = performance.now();
      if (m.dropped !== undefined) { c.dropped += m.dropped; c.expected += m.dropped; return; }
      if (m.seq < c.expected) {
        if (c.seen.has(m.seq)) c.duplicated += 1; else c.reordered += 1;
        return;
      }
      if (m.seq > c.expected) c.gaps += m.seq - c.expected;
      c.expected = m.seq + 1;
      c.cursor = m.seq;
      c.seen.add(m.seq);
      c.deliveries += 1;
      c.measure(m.t_pub_ns, (nowMs + state.offsetMs) * 1e6 - m.t_pub_ns);
      if (m.seq >= cfg.last_seq) c.finish();
    };
    return c;
  }

  const query = (cfg, after) => `topic=${encodeURIComponent(cfg.topic)}&after=${after}`;

  function sse(c, cfg) {
    return new Promise((ready) => {
      const source = new EventSource(`/sse?${query(cfg, cfg.after)}`);
      let opened = false;
      source.onopen = () => { if (!opened) { opened = true; ready(); } };
      // EventSource reconnects by itself, resuming with Last-Event-ID.
      source.onerror = () => { if (opened) c.reconnects += 1; };
      source.onmessage = (e) => c.deliver(JSON.parse(e.data));
      c.done.then(() => source.close());
    });
  }

  // The WebSocket is not closed when the client is done: its close frames would land in the
  // measured window. rtbenchClose() closes it after the window's last scrape.
  function websocket(c, cfg) {
    return new Promise((ready) => {
      const open = () => {
        const ws = new WebSocket(`ws://${location.host}/ws?${query(cfg, c.cursor)}`);
        state.sockets.push(ws);
        ws.onopen = () => ready();
        ws.onmessage = (e) => c.deliver(JSON.parse(e.data));
        ws.onclose = () => {
          if (!c.finished && !state.closing) { c.reconnects += 1; setTimeout(open, 100); }
        };
      };
      open();
    });
  }

  async function poll(c, cfg, path, extra, pauseMs) {
    while (!c.finished && !state.closing) {
      try {
        const answer = await (await fetch(`${path}?${query(cfg, c.cursor)}${extra}`, { cache: 'no-store' })).json();
        if (answer.dropped) c.deliver({ dropped: answer.dropped });
        answer.events.forEach(c.deliver);
      } catch (e) {
        c.reconnects += 1;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (pauseMs && !c.finished) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  const START = {
    sse,
    websocket,
    long_poll: (c, cfg) => { poll(c, cfg, '/longpoll', '&timeout_ms=30000', 0); },
    short_poll: (c, cfg) => { poll(c, cfg, '/poll', '', cfg.poll_interval_ms); },
  };

  window.rtbenchOpen = async (cfg) => {
    await measureClock(cfg.clock_pings);
    state.cfg = cfg;
    state.clients = cfg.transports.map((t) => newClient(t, cfg));
    await Promise.all(state.clients.map((c) => START[c.transport](c, cfg)));
    return { offset_ms: state.offsetMs, uncertainty_ms: state.uncertaintyMs };
  };

  window.rtbenchWindow = (fromNs, toNs) => {
    state.window = { fromNs, toNs };
    state.clients.forEach((c) => {
      const pending = c.pending;
      c.pending = [];
      pending.forEach(([t, latency]) => c.measure(t, latency));
    });
    return true;
  };

  window.rtbenchClose = () => {
    state.closing = true;
    state.sockets.forEach((ws) => ws.close());
    return true;
  };

  window.rtbenchResults = async () => {
    const deadline = new Promise((r) => setTimeout(r, state.cfg.deadline_ms));
    await Promise.race([Promise.all(state.clients.map((c) => c.done)), deadline]);
    state.clients.forEach((c) => c.finish());
    return state.clients.map((c) => ({ transport: c.transport, deliveries: c.deliveries,
      window_deliveries: c.windowDeliveries, window_known: state.window !== null,
      histogram: encodeHistogram(c.histogram), gaps: c.gaps, duplicated: c.duplicated,
      reordered: c.reordered, dropped: c.dropped,
      reconnects: c.reconnects, last_seq: c.expected - 1,
      uncertainty_us: Math.round(state.uncertaintyMs * 1000) }));
  };
})();
