#!/usr/bin/env node
// The controller as its own process, for the controller benchmark: `up()` from the build in dist/, as
// `plumbline up` runs it (the same logger, JSON lines at level info, here to a file), with the options in one
// JSON argument:
//
//   node bench/lib/controller-proc.mjs '{"dist":"…/dist","repo":"…","branch":"main","dataDir":"…",
//                                         "logFile":"…","webhookSecret":"…","intervalMs":60000}'
//
// Prints JSON lines on stdout: {"ready":URL,"pid":N,"at":MS} once the API listens, then every controller event
// ({"event":{…},"at":MS}), with `at` a wall-clock time in milliseconds with sub-millisecond precision
// (performance.timeOrigin + performance.now()), comparable across processes. Stops on SIGTERM/SIGINT as
// `plumbline up` does (running.stop(): the supervisor and router keep running) and exits 0.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const options = JSON.parse(process.argv[2] ?? '{}');
const at = () => performance.timeOrigin + performance.now();
const { up } = await import(pathToFileURL(join(options.dist, 'gitops', 'up.js')).href);
const { createLogger } = await import(pathToFileURL(join(options.dist, 'server', 'logger.js')).href);
const { CONTROLLER_EVENT } = await import(
  pathToFileURL(join(options.dist, 'server', 'controller-api.js')).href
);
const destination = createWriteStream(options.logFile, { flags: 'a' });
const logger = createLogger({ destination });

const running = await up({
  repo: options.repo,
  branch: options.branch ?? 'main',
  dataDir: options.dataDir,
  host: '127.0.0.1',
  port: 0,
  logger,
  ...(options.webhookSecret === undefined ? {} : { webhookSecret: options.webhookSecret }),
  ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  scripts: {
    supervisor: join(options.dist, 'targets', 'local', 'supervisor', 'main.js'),
    router: join(options.dist, 'targets', 'local', 'router', 'main.js'),
  },
});
running.controller.events.on(CONTROLLER_EVENT, (event) => {
  process.stdout.write(`${JSON.stringify({ event, at: at() })}\n`);
});
process.stdout.write(`${JSON.stringify({ ready: running.url, pid: process.pid, at: at() })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await running.stop();
  destination.end(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
