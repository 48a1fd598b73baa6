// The CLI's client of a running controller's API: `--server`/`PLUMBLINE_SERVER` (default the loopback
// listener), `--token`/`PLUMBLINE_TOKEN`, JSON both ways, and a refusal as the controller's own message.
import { InputError } from '../errors.js';

export type Api = (method: string, path: string, body?: unknown) => Promise<unknown>;

export interface ApiOptions {
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  /** How long one call may take (default 30 s). */
  readonly timeoutMs?: number;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

export function apiClient(options: ApiOptions, env: NodeJS.ProcessEnv = process.env): Api {
  const server = (options.server ?? env.PLUMBLINE_SERVER ?? DEFAULT_SERVER).replace(/\/$/, '');
  const token = options.token ?? env.PLUMBLINE_TOKEN;
  return async (method, path, body) => {
    let response: Response;
    try {
      response = await fetch(`${server}${path}`, {
        method,
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new InputError(
        `cannot reach the controller at ${server}: ${(error as Error).message}`,
        'is `plumbline up` running? set --server or PLUMBLINE_SERVER',
      );
    }
    const payload = (await response.json().catch(() => ({}))) as { message?: string; hint?: string };
    if (!response.ok) {
      throw new InputError(
        `${method} ${path}: ${response.status} ${payload.message ?? response.statusText}`,
        payload.hint,
      );
    }
    return payload;
  };
}
