// A real Prometheus for end-to-end tests: the Debian `prometheus` binary (make test installs it), started on
// loopback with a throwaway config and storage, scraping the targets it is given every second, and a loopback
// HTTP listener that serves a metrics text for it to scrape (the router's admin API is a Unix socket).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../../src/gitops/render.js';

/** The prometheus binary on PATH (or Debian's /usr/bin), or undefined when it is not installed. */
export function findPrometheus(): string | undefined {
  return findExecutable('prometheus', `${process.env.PATH ?? ''}:/usr/bin:/usr/sbin`);
}

export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT`, the HTTP API's address. */
  readonly url: string;
  /** Instant query; the answer's JSON. */
  query(promql: string): Promise<unknown>;
  /** What it printed, for a failure message. */
  output(): string;
  close(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (host:port) every second; resolves once it is ready. */
export async function startPrometheus(
  binary: string,
  targets: readonly string[],
): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'plumbline-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: plumbline-router',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = `${output}${chunk.toString('utf8')}`.slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const close = async (): Promise<void> => {
    await stop(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`prometheus exited (${child.exitCode}): ${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`prometheus did not get ready in 30 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      return (await response.json()) as unknown;
    },
    output: () => output,
    close,
  };
}

/** SIGTERM, then SIGKILL after 5 s; this child only, by its handle. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface MetricsEndpoint {
  /** `127.0.0.1:PORT`, a scrape target. */
  readonly target: string;
  close(): Promise<void>;
}

/** Serves `text()` as a Prometheus text exposition on GET /metrics of a loopback port. */
export async function serveMetrics(text: () => Promise<string>): Promise<MetricsEndpoint> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    text().then(
      (body) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
