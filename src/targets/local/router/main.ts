// The router process: `node dist/targets/local/router/main.js --admin-socket PATH --state FILE [--host H]`.
// Runs the router service until SIGTERM or SIGINT, then drains and exits 0; logs JSON lines to stderr.
import { parseArgs } from 'node:util';
import { jsonLog } from './log.js';
import { startRouterService } from './service.js';

const USAGE = 'usage: main.js --admin-socket PATH --state FILE [--host 127.0.0.1] [--drain-timeout-ms N]';

export async function main(argv: readonly string[]): Promise<number> {
  const log = jsonLog(2);
  let values: { 'admin-socket'?: string; state?: string; host?: string; 'drain-timeout-ms'?: string };
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        'admin-socket': { type: 'string' },
        state: { type: 'string' },
        host: { type: 'string' },
        'drain-timeout-ms': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    log('error', 'usage', { message: (error as Error).message, usage: USAGE });
    return 2;
  }
  const socket = values['admin-socket'];
  const state = values.state;
  const drain = values['drain-timeout-ms'] === undefined ? undefined : Number(values['drain-timeout-ms']);
  if (socket === undefined || state === undefined || (drain !== undefined && !Number.isInteger(drain))) {
    log('error', 'usage', { message: 'missing or bad arguments', usage: USAGE });
    return 2;
  }

  const service = await startRouterService({
    socket,
    state,
    log,
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(drain === undefined ? {} : { drainTimeoutMs: drain }),
  });
  log('info', 'started', { pid: process.pid, socket, state, host: values.host ?? '127.0.0.1' });

  return new Promise<number>((resolve) => {
    let signals = 0;
    function onSignal(signal: NodeJS.Signals): void {
      signals += 1;
      log('info', 'signal', { signal });
      if (signals > 1) {
        // A second signal does not wait for slow requests.
        resolve(1);
        return;
      }
      service.close().then(
        () => resolve(0),
        (error: unknown) => {
          log('error', 'shutdown.failed', { error });
          resolve(1);
        },
      );
    }
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

process.on('uncaughtException', (error) => {
  jsonLog(2)('error', 'uncaught', { error });
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    jsonLog(2)('error', 'start.failed', { error, hint: (error as { hint?: string }).hint });
    process.exit(1);
  },
);
