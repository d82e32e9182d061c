// rtbench's browser clients: evaluated in a page of the server's own origin (so the browser sends
// no Origin on its GETs and they are served as rtbench's own clients' are), one client per
// transport per page. rtbenchOpen(cfg) measures the clock offset (GET /clock, smallest round trip
// kept) and resolves when every client is subscribed; rtbenchResults() resolves when each client
// has received the topic's events up to cfg.last_seq, or at cfg.deadline_ms, with what each saw.
'use strict';
(() => {
  const state = { offsetMs: 0, uncertaintyMs: 0, clients: [] };

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

  // What one client saw; deliver() is called with each parsed message as it arrives.
  function newClient(transport, cfg) {
    const c = { transport, expected: cfg.after + 1, latenciesUs: [], deliveries: 0, gaps: 0,
      outOfOrder: 0, dropped: 0, reconnects: 0, done: null, finish: null, cursor: cfg.after };
    c.done = new Promise((resolve) => { c.finish = resolve; });
    c.deliver = (m) => {
      const nowMs = performance.now();
      if (m.dropped !== undefined) { c.dropped += m.dropped; c.expected += m.dropped; return; }
      if (m.seq < c.expected) { c.outOfOrder += 1; return; }
      if (m.seq > c.expected) c.gaps += m.seq - c.expected;
      c.expected = m.seq + 1;
      c.cursor = m.seq;
      c.deliveries += 1;
      const latencyUs = Math.round((nowMs + state.offsetMs - m.t_pub_ns / 1e6) * 1000);
      c.latenciesUs.push(Math.max(1, latencyUs));
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

  function websocket(c, cfg) {
    return new Promise((ready) => {
      let finished = false;
      c.done.then(() => { finished = true; });
      const open = () => {
        const ws = new WebSocket(`ws://${location.host}/ws?${query(cfg, c.cursor)}`);
        ws.onopen = () => ready();
        ws.onmessage = (e) => c.deliver(JSON.parse(e.data));
        ws.onclose = () => { if (!finished) { c.reconnects += 1; setTimeout(open, 100); } };
        c.done.then(() => ws.close());
      };
      open();
    });
  }

  async function poll(c, cfg, path, extra, pauseMs) {
    let finished = false;
    c.done.then(() => { finished = true; });
    while (!finished) {
      try {
        const answer = await (await fetch(`${path}?${query(cfg, c.cursor)}${extra}`, { cache: 'no-store' })).json();
        if (answer.dropped) c.deliver({ dropped: answer.dropped });
        answer.events.forEach(c.deliver);
      } catch (e) {
        c.reconnects += 1;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (pauseMs && !finished) await new Promise((r) => setTimeout(r, pauseMs));
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

  window.rtbenchResults = async () => {
    const deadline = new Promise((r) => setTimeout(r, state.cfg.deadline_ms));
    await Promise.race([Promise.all(state.clients.map((c) => c.done)), deadline]);
    state.clients.forEach((c) => c.finish());
    return state.clients.map((c) => ({ transport: c.transport, deliveries: c.deliveries,
      latencies_us: c.latenciesUs, gaps: c.gaps, out_of_order: c.outOfOrder, dropped: c.dropped,
      reconnects: c.reconnects, last_seq: c.expected - 1,
      uncertainty_us: Math.round(state.uncertaintyMs * 1000) }));
  };
})();
