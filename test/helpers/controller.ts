// What the controller's end-to-end tests share: the demo app, the supervisor's and router's entry points in
// dist/, a GET that never throws, a wait for a condition, and stopping what `up()` left running.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './repo.js';

/** The demo app's source: answers `<GREETING> from pid N`, has /healthz. */
export const DEMO_APP = readFileSync(join(ROOT, 'examples/demo-app/server.js'), 'utf8');

/** The supervisor and router as built (run `npm run build` first; `make test` does). */
export const SCRIPTS = {
  supervisor: join(ROOT, 'dist/targets/local/supervisor/main.js'),
  router: join(ROOT, 'dist/targets/local/router/main.js'),
};

/** The body of a 2xx answer, or undefined for anything else (an error status, a refused connection). */
export async function getText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `probe` every 200 ms until it gives a value; throws naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Stops the supervisor (and its apps) and the router that outlive `up()`'s stop, by their pid files. */
export async function stopLocalTarget(dataDir: string): Promise<void> {
  for (const pidFile of ['supervisor/supervisor.pid', 'router/router.pid']) {
    try {
      process.kill(Number(readFileSync(join(dataDir, pidFile), 'utf8').trim()), 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => setTimeout(r, 1500));
}
