// The router benchmark (`--only router`): plumbline's router process in front of the demo app, against the
// app directly and against HAProxy (Debian's, as a plain reverse proxy to the same app), in the same run.
//
// 1. Added latency at a fixed rate: lib/loadgen.mjs at 2,000 req/s for 15 s (2 s warm-up not counted) to
//    each of direct, router, HAProxy, interleaved round by round; added p99 = proxied p99 - direct p99 in
//    the same round, median over the rounds. Target: < 1 ms.
// 2. Throughput: `wrk -t2 -c32 -d10s --latency` to each (and to HAProxy with one thread), interleaved;
//    req/s median over the rounds, and router / HAProxy. No threshold: reported.
// Each row also gives the CPU time the proxy (and the app) used during the run, per request.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarizeProfile } from './profile.mjs';
import { freePort, httpGet, procCpu, runCapture, startLoad, startProcess, until } from './services.mjs';
import { BENCH_DIR, ensureDir, log, machineBusySeconds, median, REPO_DIR } from './util.mjs';

const DEMO_APP = join(REPO_DIR, 'examples', 'demo-app', 'server.js');
const ROUTER_MAIN = join(REPO_DIR, 'dist', 'targets', 'local', 'router', 'main.js');
const MIN_PROXY = join(BENCH_DIR, 'lib', 'min-proxy.mjs');
const CORES = (await import('node:os')).cpus().length;

function haproxyConfig({ port, backendPort, threads }) {
  return `# Written by bench/lib/router.mjs: HAProxy as a plain HTTP reverse proxy to the demo app.
global
    maxconn 4096
${threads === undefined ? '' : `    nbthread ${threads}\n`}
defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s

frontend bench
    bind 127.0.0.1:${port}
    default_backend app

backend app
    server app1 127.0.0.1:${backendPort}
`;
}

/** Parses wrk's summary: req/s, latency percentiles (ms), non-2xx and socket errors. */
export function parseWrk(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m === null ? undefined : Number(m[1]);
  };
  const ms = (value, unit) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? Number.NaN);
  const pct = {};
  for (const m of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$/gm))
    pct[`p${m[1]}`] = ms(m[2], m[3]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) ?? 0,
    socketErrors: sock === null ? 0 : sock.slice(1).reduce((n, v) => n + Number(v), 0),
    latencyMs: pct,
  };
}

/**
 * CPU seconds of the given pids (self, all threads) around `fn`, and `other`: the share of the machine's CPU
 * that other processes used meanwhile (busy time minus these pids, the load tool's own CPU — `fn` returns it
 * as `toolCpu` — and this harness's). A run during which others took more than 15% is run again after a
 * wait for quiet (twice at most), as in the rest of the harness.
 */
async function withCpu(pids, fn, { quiet, label }) {
  let m;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = pids.map((pid) => procCpu(pid)?.self ?? 0);
    const own = process.cpuUsage();
    const busyBefore = machineBusySeconds();
    const started = performance.now();
    const { result, toolCpu } = await fn();
    const seconds = (performance.now() - started) / 1000;
    const busyAfter = machineBusySeconds();
    const cpu = pids.map((pid, i) => (procCpu(pid)?.self ?? 0) - before[i]);
    const ownCpu = process.cpuUsage(own);
    const ours = cpu.reduce((n, c) => n + c, 0) + (toolCpu ?? 0) + (ownCpu.user + ownCpu.system) / 1e6;
    const other = Math.max(0, busyAfter - busyBefore - ours) / (seconds * CORES);
    m = { result, cpu, seconds, other };
    if (other <= 0.15) break;
    log(`${label}: other processes used ${(other * 100).toFixed(0)}% of the CPU meanwhile; again`);
    await quiet(label);
  }
  return m;
}

/** wrk under GNU time (for its CPU time); returns its parsed summary and CPU seconds. */
async function wrk(url, seconds, scratch) {
  const out = await runCapture('/usr/bin/time', [
    '-f',
    '%U %S',
    '-o',
    scratch,
    'wrk',
    '-t2',
    '-c32',
    `-d${seconds}s`,
    '--latency',
    url,
  ]);
  const [user, sys] = readFileSync(scratch, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { result: out, toolCpu: user + sys };
}

export async function benchRouter({
  workDir,
  runs,
  quiet,
  profile = false,
  rate = 2000,
  latencySeconds = 15,
  warmupSeconds = 2,
}) {
  const dir = join(workDir, 'router');
  rmSync(dir, { recursive: true, force: true });
  ensureDir(dir);
  const { RouterClient } = await import(
    pathToFileURL(join(REPO_DIR, 'dist', 'targets', 'local', 'router', 'client.js')).href
  );
  const started = [];
  try {
    // The backend: the demo app, one process.
    const backendPort = await freePort();
    const app = startProcess(process.execPath, [DEMO_APP], {
      cwd: join(REPO_DIR, 'examples', 'demo-app'),
      env: { PORT: String(backendPort), GREETING: 'hello' },
      logFile: join(dir, 'app.log'),
    });
    started.push(app);
    const direct = `http://127.0.0.1:${backendPort}/`;
    await until('the demo app', async () => (await httpGet(`${direct}healthz`)).status === 200);

    // Plumbline's router process, one route to the app.
    const socket = join(dir, 'router.sock');
    const router = startProcess(
      process.execPath,
      [ROUTER_MAIN, '--admin-socket', socket, '--state', join(dir, 'routes.json')],
      { cwd: dir, logFile: join(dir, 'router.log') },
    );
    started.push(router);
    const client = new RouterClient({ socket });
    await until(
      'the router',
      () =>
        client.health().then(
          () => true,
          () => false,
        ),
      { timeoutMs: 15_000, everyMs: 50 },
    );
    const routerPort = await freePort();
    await client.setRoutes(routerPort, 'bench/web', [
      { id: 'bench/web/h0/0', url: `http://127.0.0.1:${backendPort}`, revision: 'bench', weight: 1 },
    ]);
    const viaRouter = `http://127.0.0.1:${routerPort}/`;

    // HAProxy: default threads (one per core) and one thread.
    const haproxies = [];
    for (const threads of [undefined, 1]) {
      const port = await freePort();
      const cfg = join(dir, `haproxy-${threads ?? 'default'}.cfg`);
      writeFileSync(cfg, haproxyConfig({ port, backendPort, threads }));
      const check = await runCapture('haproxy', ['-c', '-f', cfg]).catch((e) => e.message);
      if (!/valid/i.test(check)) log(`router: haproxy -c says: ${check.trim()}`);
      const proc = startProcess('haproxy', ['-db', '-f', cfg], {
        cwd: dir,
        logFile: join(dir, `haproxy-${threads ?? 'default'}.log`),
      });
      started.push(proc);
      haproxies.push({ threads, url: `http://127.0.0.1:${port}/`, pid: proc.pid });
    }
    for (const h of haproxies)
      await until(`HAProxy on ${h.url}`, async () => (await httpGet(h.url)).status === 200, {
        timeoutMs: 15_000,
        everyMs: 50,
      });
    const [haproxy, haproxy1] = haproxies;

    // The reference: a minimal Node proxy (lib/min-proxy.mjs), what Node's HTTP stack costs by itself.
    const minPort = await freePort();
    const minProxy = startProcess(process.execPath, [MIN_PROXY, String(minPort), String(backendPort)], {
      cwd: dir,
      logFile: join(dir, 'min-proxy.log'),
    });
    started.push(minProxy);
    const viaMin = `http://127.0.0.1:${minPort}/`;
    await until('the reference proxy', async () => (await httpGet(viaMin)).status === 200, {
      timeoutMs: 15_000,
      everyMs: 50,
    });

    const subjects = [
      { key: 'direct', label: 'direct to the app', url: direct, pids: [app.pid] },
      { key: 'router', label: 'through plumbline router', url: viaRouter, pids: [router.pid, app.pid] },
      {
        key: 'haproxy',
        label: `through HAProxy (nbthread default: ${CORES})`,
        url: haproxy.url,
        pids: [haproxy.pid, app.pid],
      },
      {
        key: 'node',
        label: 'reference: a minimal Node http proxy (lib/min-proxy.mjs)',
        url: viaMin,
        pids: [minProxy.pid, app.pid],
      },
    ];
    const subjectsTp = [
      ...subjects,
      {
        key: 'haproxy1',
        label: 'through HAProxy, nbthread 1',
        url: haproxy1.url,
        pids: [haproxy1.pid, app.pid],
      },
    ];
    // Warm-up: JIT, connection pools.
    for (const s of subjectsTp) await runCapture('wrk', ['-t2', '-c32', '-d2s', s.url]);

    const latency = Object.fromEntries(subjects.map((s) => [s.key, []]));
    const throughput = Object.fromEntries(subjectsTp.map((s) => [s.key, []]));
    for (let i = 1; i <= runs; i++) {
      await quiet(`router latency round ${i}`);
      for (const s of subjects) {
        log(`router: round ${i}/${runs}: ${rate} req/s for ${latencySeconds} s, ${s.label}`);
        const m = await withCpu(
          s.pids,
          async () => {
            const r = await startLoad(s.url, {
              rate,
              duration: latencySeconds + warmupSeconds,
              warmup: warmupSeconds,
            }).result;
            return { result: r, toolCpu: r.cpuSeconds };
          },
          { quiet, label: `router latency, ${s.key}` },
        );
        latency[s.key].push({ ...m.result, cpu: m.cpu, seconds: m.seconds, other: m.other });
      }
    }
    for (let i = 1; i <= runs; i++) {
      await quiet(`router throughput round ${i}`);
      for (const s of subjectsTp) {
        log(`router: round ${i}/${runs}: wrk -t2 -c32 -d10s, ${s.label}`);
        const m = await withCpu(s.pids, () => wrk(s.url, 10, join(dir, 'wrk-time.txt')), {
          quiet,
          label: `router throughput, ${s.key}`,
        });
        throughput[s.key].push({ ...parseWrk(m.result), cpu: m.cpu, seconds: m.seconds, other: m.other });
      }
    }
    // --profile: a second router process under --cpu-prof, at half the rate (the profiler slows it down).
    let profiles;
    if (profile) {
      const out = join(dir, 'profile-router');
      ensureDir(out);
      const socket2 = join(dir, 'router-profile.sock');
      const profiled = startProcess(
        process.execPath,
        [
          '--cpu-prof',
          '--cpu-prof-dir',
          out,
          ROUTER_MAIN,
          '--admin-socket',
          socket2,
          '--state',
          join(dir, 'routes-profile.json'),
        ],
        { cwd: dir, logFile: join(dir, 'router-profile.log') },
      );
      started.push(profiled);
      const client2 = new RouterClient({ socket: socket2 });
      await until(
        'the profiled router',
        () =>
          client2.health().then(
            () => true,
            () => false,
          ),
        { timeoutMs: 15_000, everyMs: 50 },
      );
      const port2 = await freePort();
      await client2.setRoutes(port2, 'bench/web', [
        { id: 'bench/web/h0/0', url: `http://127.0.0.1:${backendPort}`, revision: 'bench', weight: 1 },
      ]);
      log(`router: profile: ${rate / 2} req/s for 10 s through a router under --cpu-prof`);
      await startLoad(`http://127.0.0.1:${port2}/`, { rate: rate / 2, duration: 10 }).result;
      await profiled.stop('SIGTERM', 10_000);
      const file = readdirSync(out).find((f) => f.endsWith('.cpuprofile'));
      if (file !== undefined)
        profiles = [
          { thread: 'main', file: join(out, file), ...summarizeProfile(join(out, file), 12, true) },
        ];
    }
    // The router's own view: its request-duration histogram (the time inside the router per request).
    const metrics = await client.metrics().catch(() => '');
    const rssKb = Number(
      /^VmHWM:\s+(\d+)/m.exec(
        (await import('node:fs')).readFileSync(`/proc/${router.pid}/status`, 'utf8'),
      )?.[1],
    );

    const summaryLatency = Object.fromEntries(
      subjects.map((s) => {
        const list = latency[s.key];
        return [
          s.key,
          {
            label: s.label,
            p50: median(list.map((r) => r.serviceMs.p50)),
            p99: median(list.map((r) => r.serviceMs.p99)),
            p999: median(list.map((r) => r.serviceMs.p999)),
            p99s: list.map((r) => r.serviceMs.p99),
            correctedP99: median(list.map((r) => r.correctedMs.p99)),
            achievedRate: median(list.map((r) => r.achievedRate)),
            failed: list.reduce((n, r) => n + r.failed, 0),
            requests: list.reduce((n, r) => n + r.sent, 0),
            proxyCpuPerSecond: median(list.map((r) => r.cpu[0] / r.seconds)),
            other: median(list.map((r) => r.other)),
          },
        ];
      }),
    );
    const added = (key) => {
      const diffs = latency[key].map((r, i) => r.serviceMs.p99 - latency.direct[i].serviceMs.p99);
      const diffs50 = latency[key].map((r, i) => r.serviceMs.p50 - latency.direct[i].serviceMs.p50);
      return { p99: median(diffs), p99s: diffs, p50: median(diffs50) };
    };
    const summaryTp = Object.fromEntries(
      subjectsTp.map((s) => {
        const list = throughput[s.key];
        const proxied = s.key !== 'direct';
        return [
          s.key,
          {
            label: s.label,
            rps: median(list.map((r) => r.rps)),
            all: list.map((r) => r.rps),
            p50: median(list.map((r) => r.latencyMs.p50)),
            p99: median(list.map((r) => r.latencyMs.p99)),
            errors: list.reduce((n, r) => n + r.non2xx + r.socketErrors, 0),
            // CPU microseconds per request of the proxy (first pid) and of the app (last pid).
            proxyUsPerReq: proxied ? median(list.map((r) => (r.cpu[0] / r.requests) * 1e6)) : undefined,
            appUsPerReq: median(list.map((r) => (r.cpu[r.cpu.length - 1] / r.requests) * 1e6)),
            other: median(list.map((r) => r.other)),
          },
        ];
      }),
    );
    return {
      rate,
      latencySeconds,
      warmupSeconds,
      latency: summaryLatency,
      addedRouter: added('router'),
      addedHaproxy: added('haproxy'),
      addedNode: added('node'),
      throughput: summaryTp,
      ratio: summaryTp.router.rps / summaryTp.haproxy.rps,
      ratio1: summaryTp.router.rps / summaryTp.haproxy1.rps,
      ratioNode: summaryTp.router.rps / summaryTp.node.rps,
      routerHwmKb: Number.isFinite(rssKb) ? rssKb : undefined,
      profiles,
      routerRequests:
        Number(/plumbline_router_requests_total\{[^}]*\}\s+(\d+)/.exec(metrics)?.[1]) || undefined,
    };
  } finally {
    for (const p of started.reverse()) await p.stop('SIGTERM', 5000);
  }
}
