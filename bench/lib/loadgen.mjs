#!/usr/bin/env node
// A bounded open-loop HTTP load generator at a fixed rate (Debian 12 has wrk but not wrk2, and wrk cannot hold
// a rate). Run as its own process so it does not share an event loop with what it measures:
//
//   node bench/lib/loadgen.mjs --url URL --rate N --duration S [--warmup S] [--max-requests N]
//                              [--connections N] [--timeout-ms N]
//
// Request i is due at start + i/rate; a 1 ms timer sends every due request (so a slow server does not slow
// the schedule down: no coordinated omission in the send times). Each request goes over a keep-alive agent
// of at most --connections sockets. Latency is measured with process.hrtime from the moment the request is
// handed to http.request to the end of the response body ("service" latency), and also from the moment it
// was due ("corrected" latency, which includes any lag of this process's timer). Requests in the warm-up
// are not in the latency percentiles, but every failure counts, warm-up or not.
//
// It stops after --duration seconds of sending, after --max-requests, or on SIGTERM/SIGINT (then it sends no
// more and waits up to 5 s for those in flight). It prints one JSON object on stdout: counts, failures (by
// kind, with times), latency percentiles in milliseconds, the share of responses per first word of the body
// (the demo app answers "<greeting> from pid N", so a rollout shows as a change of word), and per-second counts.
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '0' },
    'max-requests': { type: 'string' },
    connections: { type: 'string', default: '64' },
    'timeout-ms': { type: 'string', default: '5000' },
  },
});
if (values.url === undefined) {
  process.stderr.write('loadgen: --url is required\n');
  process.exit(2);
}
const url = new URL(values.url);
const rate = Number(values.rate);
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const timeoutMs = Number(values['timeout-ms']);
// Hard bounds, whatever the flags say: at most 10 minutes and 2,000,000 requests.
const maxRequests = Math.min(
  2_000_000,
  values['max-requests'] === undefined ? Math.ceil(rate * duration) : Number(values['max-requests']),
  Math.ceil(rate * Math.min(duration, 600)),
);
const agent = new Agent({ keepAlive: true, maxSockets: Number(values.connections), scheduling: 'lifo' });

const service = new Float64Array(maxRequests);
const corrected = new Float64Array(maxRequests);
let measured = 0;
let sent = 0;
let done = 0;
let ok = 0;
let inflight = 0;
let maxInflight = 0;
const failures = new Map(); // kind -> { count, first, last } (seconds since start)
const words = new Map();
const perSecond = [];
let stopping = false;

const start = process.hrtime.bigint();
const startedAt = performance.timeOrigin + performance.now();
const sinceStart = () => Number(process.hrtime.bigint() - start) / 1e9;

function fail(kind) {
  const at = sinceStart();
  const f = failures.get(kind);
  if (f === undefined) failures.set(kind, { count: 1, first: at, last: at });
  else {
    f.count += 1;
    f.last = at;
  }
  const s = Math.floor(at);
  perSecond[s] ??= { ok: 0, failed: 0 };
  perSecond[s].failed += 1;
}

function send(index) {
  const due = start + BigInt(Math.round((index / rate) * 1e9));
  const t0 = process.hrtime.bigint();
  inflight += 1;
  if (inflight > maxInflight) maxInflight = inflight;
  let finished = false;
  const finish = (kind, body) => {
    if (finished) return;
    finished = true;
    inflight -= 1;
    done += 1;
    if (kind !== undefined) {
      fail(kind);
      return;
    }
    const t1 = process.hrtime.bigint();
    ok += 1;
    const at = sinceStart();
    const s = Math.floor(at);
    perSecond[s] ??= { ok: 0, failed: 0 };
    perSecond[s].ok += 1;
    const word = body.split(' ', 1)[0].trim() || '(empty)';
    words.set(word, (words.get(word) ?? 0) + 1);
    if (Number(due - start) / 1e9 >= warmup && measured < maxRequests) {
      service[measured] = Number(t1 - t0) / 1e6;
      corrected[measured] = Number(t1 - due) / 1e6;
      measured += 1;
    }
  };
  const req = request(
    { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, agent, method: 'GET' },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (body.length < 200) body += chunk;
      });
      res.on('end', () => finish(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`, body));
      res.on('error', (error) => finish(error.code ?? error.message));
    },
  );
  req.setTimeout(timeoutMs, () => {
    req.destroy(Object.assign(new Error('timeout'), { code: `timeout ${timeoutMs} ms` }));
  });
  req.on('error', (error) => finish(error.code ?? error.message));
  req.end();
}

function tick() {
  if (stopping) return;
  const elapsed = sinceStart();
  if (elapsed >= duration || sent >= maxRequests) {
    end();
    return;
  }
  const due = Math.min(maxRequests, Math.floor(elapsed * rate) + 1);
  while (sent < due) send(sent++);
  setTimeout(tick, 1);
}

let ended = false;
async function end() {
  if (ended) return;
  ended = true;
  stopping = true;
  const sendSeconds = sinceStart();
  const deadline = Date.now() + 5000;
  while (inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (inflight > 0) fail(`still in flight at the end (${inflight})`);
  agent.destroy();
  const pct = (arr, n) => {
    if (n === 0) return {};
    const sorted = Float64Array.from(arr.subarray(0, n)).sort();
    const at = (p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i];
    return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: sorted[n - 1], mean: sum / n };
  };
  const cpu = process.cpuUsage();
  const out = {
    url: values.url,
    startedAt,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rate,
    warmup,
    sendSeconds,
    sent,
    done,
    ok,
    failed: [...failures.values()].reduce((n, f) => n + f.count, 0),
    failures: Object.fromEntries(failures),
    maxInflight,
    achievedRate: sent / sendSeconds,
    measured,
    serviceMs: pct(service, measured),
    correctedMs: pct(corrected, measured),
    words: Object.fromEntries(words),
    perSecond: perSecond.map((s) => s ?? { ok: 0, failed: 0 }),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

process.on('SIGTERM', end);
process.on('SIGINT', end);
process.stderr.write(`loadgen: ${rate} req/s to ${values.url} for up to ${duration} s\n`);
tick();
