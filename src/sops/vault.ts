// A HashiCorp Vault KV version 2 client (fetch, no SDK): read `GET /v1/<mount>/data/<path>` with an
// X-Vault-Token, the token from VAULT_TOKEN or an AppRole login (`POST /v1/auth/approle/login`), the address
// from VAULT_ADDR and an optional X-Vault-Namespace. Errors say what to check; they never contain the token,
// the secret id or a secret value (Vault's own error strings are passed through only after redaction).
import { SecretsError } from './errors.js';

export interface VaultClientOptions {
  /** e.g. https://vault.example.com:8200 */
  readonly address: string;
  readonly token?: string;
  /** AppRole credentials, used when there is no token. */
  readonly roleId?: string;
  readonly secretId?: string;
  /** Where the AppRole auth method is mounted (default `approle`). */
  readonly approleMount?: string;
  /** Vault Enterprise / HCP namespace, sent as X-Vault-Namespace. */
  readonly namespace?: string;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** For tests and proxies; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface VaultSecret {
  readonly data: Readonly<Record<string, unknown>>;
  /** KV v2 metadata.version, when Vault sent it. */
  readonly version: number | undefined;
}

export interface VaultClient {
  readonly address: string;
  /** Reads a KV v2 secret. `path` is `<mount>/data/<path>` (as the API names it) or `<mount>/<path>`. */
  read(path: string, options?: { signal?: AbortSignal }): Promise<VaultSecret>;
  /** One key of a KV v2 secret, as a string (numbers and booleans are written as JSON). */
  readKey(path: string, key: string, options?: { signal?: AbortSignal }): Promise<string>;
}

/** The client options from the controller's environment, or undefined when VAULT_ADDR is not set. */
export function vaultOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): VaultClientOptions | undefined {
  const address = env.VAULT_ADDR;
  if (address === undefined || address === '') return undefined;
  const pick = (name: string): Record<string, string> => {
    const v = env[name];
    return v === undefined || v === '' ? {} : { [name]: v };
  };
  const e = {
    ...pick('VAULT_TOKEN'),
    ...pick('VAULT_ROLE_ID'),
    ...pick('VAULT_SECRET_ID'),
    ...pick('VAULT_NAMESPACE'),
  };
  return {
    address,
    ...(e.VAULT_TOKEN === undefined ? {} : { token: e.VAULT_TOKEN }),
    ...(e.VAULT_ROLE_ID === undefined ? {} : { roleId: e.VAULT_ROLE_ID }),
    ...(e.VAULT_SECRET_ID === undefined ? {} : { secretId: e.VAULT_SECRET_ID }),
    ...(e.VAULT_NAMESPACE === undefined ? {} : { namespace: e.VAULT_NAMESPACE }),
  };
}

/**
 * The API path of a KV v2 secret, each segment encoded: `secret/data/web` as written, or `secret/web` with
 * `data` put after the first segment (the mount), as the vault CLI's path-like syntax does.
 */
export function kv2ApiPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length < 2 || parts.some((p) => p === '.' || p === '..')) {
    throw new SecretsError('usage', `"${path}" is not a KV v2 secret path`, {
      hint: 'write <mount>/data/<path>, e.g. secret/data/web',
    });
  }
  // Already in API form when a `data` segment follows the mount (which may itself have several segments).
  const at = parts.indexOf('data', 1);
  const withData = at >= 1 && at < parts.length - 1 ? parts : [parts[0] as string, 'data', ...parts.slice(1)];
  return withData.map((p) => encodeURIComponent(p)).join('/');
}

function checkOptions(options: VaultClientOptions): URL {
  let url: URL;
  try {
    url = new URL(options.address);
  } catch {
    throw new SecretsError('usage', `VAULT_ADDR "${options.address.slice(0, 100)}" is not a URL`, {
      hint: 'e.g. VAULT_ADDR=https://vault.example.com:8200',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SecretsError('usage', `VAULT_ADDR must be an http or https URL (found ${url.protocol})`, {
      hint: 'e.g. VAULT_ADDR=https://vault.example.com:8200',
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new SecretsError('usage', 'VAULT_ADDR must not hold credentials', {
      hint: 'give the token in VAULT_TOKEN, or AppRole credentials in VAULT_ROLE_ID and VAULT_SECRET_ID',
    });
  }
  const hasToken = options.token !== undefined && options.token !== '';
  const hasRole = options.roleId !== undefined && options.secretId !== undefined;
  if (!hasToken && !hasRole) {
    throw new SecretsError('usage', 'Vault needs a token or AppRole credentials', {
      hint: 'set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID, in the controller environment',
    });
  }
  return url;
}

/** Vault's error strings, shortened, with anything that looks like a token or credential removed. */
function vaultErrors(body: unknown, redact: readonly string[]): string {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return '';
  let text = errors
    .filter((e): e is string => typeof e === 'string')
    .join('; ')
    .replace(/\s+/g, ' ')
    .replace(/\b(hvs|hvb|hvr|s|b|r)\.[A-Za-z0-9_-]{8,}/g, '[redacted]')
    .trim();
  for (const secret of redact) if (secret.length >= 4) text = text.replaceAll(secret, '[redacted]');
  return text === '' ? '' : ` (Vault says: ${text.slice(0, 200)})`;
}

/** Builds a client; the options are checked once, here. */
export function createVaultClient(options: VaultClientOptions): VaultClient {
  const base = checkOptions(options);
  const address = base.origin + base.pathname.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const approleMount = (options.approleMount ?? 'approle').replace(/^\/+|\/+$/g, '');
  const redact = [options.token, options.secretId, options.roleId].filter(
    (s): s is string => s !== undefined,
  );
  let token = options.token !== undefined && options.token !== '' ? options.token : undefined;
  let tokenExpires = Number.POSITIVE_INFINITY;
  const useAppRole = token === undefined;

  async function request(
    method: 'GET' | 'POST',
    path: string,
    what: string,
    init: { token?: string; body?: unknown; signal?: AbortSignal },
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.token !== undefined) headers['X-Vault-Token'] = init.token;
    if (options.namespace !== undefined) headers['X-Vault-Namespace'] = options.namespace;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const signal =
      init.signal === undefined
        ? AbortSignal.timeout(timeoutMs)
        : AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]);
    let response: Response;
    try {
      response = await doFetch(`${address}/v1/${path}`, {
        method,
        headers,
        signal,
        redirect: 'error',
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    } catch (error) {
      const name = (error as Error).name;
      const why =
        name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : name === 'AbortError'
            ? 'aborted'
            : 'cannot connect';
      throw new SecretsError('unavailable', `Vault at ${address}: ${why} (${what})`, {
        hint: 'check VAULT_ADDR and that Vault is up; the controller retries',
      });
    }
    const text = await response.text();
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    return { status: response.status, body };
  }

  async function login(signal?: AbortSignal): Promise<string> {
    const { status, body } = await request('POST', `auth/${approleMount}/login`, 'AppRole login', {
      body: { role_id: options.roleId, secret_id: options.secretId },
      ...(signal === undefined ? {} : { signal }),
    });
    if (status !== 200) {
      const reason = status >= 500 || status === 429 ? 'unavailable' : 'denied';
      throw new SecretsError(
        reason,
        `Vault AppRole login failed with HTTP ${status}${vaultErrors(body, redact)}`,
        {
          hint: 'check VAULT_ROLE_ID and VAULT_SECRET_ID (and VAULT_NAMESPACE); a secret id may have expired or run out of uses',
        },
      );
    }
    const auth = (body as { auth?: { client_token?: unknown; lease_duration?: unknown } } | null)?.auth;
    if (typeof auth?.client_token !== 'string' || auth.client_token === '') {
      throw new SecretsError('unavailable', 'Vault AppRole login answered without a client token', {
        hint: 'is VAULT_ADDR a Vault server?',
      });
    }
    const lease =
      typeof auth.lease_duration === 'number' && auth.lease_duration > 0 ? auth.lease_duration : 0;
    // Renew a little before the lease runs out; a token without a lease (0) is kept until Vault refuses it.
    tokenExpires = lease > 0 ? Date.now() + lease * 900 : Number.POSITIVE_INFINITY;
    return auth.client_token;
  }

  async function currentToken(signal?: AbortSignal): Promise<string> {
    if (token === undefined || (useAppRole && Date.now() >= tokenExpires)) token = await login(signal);
    return token;
  }

  async function read(path: string, readOptions: { signal?: AbortSignal } = {}): Promise<VaultSecret> {
    const apiPath = kv2ApiPath(path);
    const shown = decodeURIComponent(apiPath);
    const signal = readOptions.signal;
    let attempt = await request('GET', apiPath, `reading ${shown}`, {
      token: await currentToken(signal),
      ...(signal === undefined ? {} : { signal }),
    });
    if (attempt.status === 403 && useAppRole) {
      // The AppRole token may have expired early (revoked, max TTL): log in again once.
      token = undefined;
      attempt = await request('GET', apiPath, `reading ${shown}`, {
        token: await currentToken(signal),
        ...(signal === undefined ? {} : { signal }),
      });
    }
    const { status, body } = attempt;
    if (status === 200) {
      const data = (body as { data?: { data?: unknown; metadata?: { version?: unknown } } } | null)?.data;
      if (
        data === undefined ||
        data.data === null ||
        typeof data.data !== 'object' ||
        Array.isArray(data.data)
      ) {
        throw new SecretsError('not-found', `Vault has no data at ${shown}`, {
          hint: 'is this a KV version 2 mount? (a KV v1 mount has no /data/ in its paths)',
        });
      }
      const version = typeof data.metadata?.version === 'number' ? data.metadata.version : undefined;
      return { data: data.data as Record<string, unknown>, version };
    }
    const detail = vaultErrors(body, redact);
    if (status === 404) {
      const deleted = (body as { data?: { metadata?: { deletion_time?: unknown } } } | null)?.data?.metadata
        ?.deletion_time;
      const wasDeleted = typeof deleted === 'string' && deleted !== '';
      throw new SecretsError(
        'not-found',
        `Vault has no secret at ${shown}${wasDeleted ? ' (its latest version was deleted)' : ''}`,
        {
          hint: 'check the path: <mount>/data/<path>, e.g. secret/data/web, and VAULT_NAMESPACE',
        },
      );
    }
    if (status === 401 || status === 403) {
      throw new SecretsError('denied', `Vault denied reading ${shown} (HTTP ${status})${detail}`, {
        hint: `the token's policy must grant "read" on ${shown}; check VAULT_TOKEN or the AppRole's policies`,
      });
    }
    const reason = status >= 500 || status === 429 ? 'unavailable' : 'denied';
    throw new SecretsError(reason, `Vault answered HTTP ${status} reading ${shown}${detail}`, {
      hint:
        reason === 'unavailable'
          ? 'Vault is sealed, overloaded or failing; the controller retries'
          : 'check the request',
    });
  }

  return {
    address,
    read,
    async readKey(path, key, readOptions = {}) {
      const secret = await read(path, readOptions);
      if (!Object.hasOwn(secret.data, key)) {
        const names = Object.keys(secret.data).sort();
        throw new SecretsError('missing-key', `the Vault secret ${path} has no key "${key}"`, {
          hint: names.length === 0 ? 'the secret is empty' : `it has: ${names.slice(0, 20).join(', ')}`,
        });
      }
      const value = secret.data[key];
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
      throw new SecretsError(
        'missing-key',
        `the key "${key}" of the Vault secret ${path} is ${value === null ? 'null' : 'not a plain value'}`,
        {
          hint: 'an environment variable needs a string, number or boolean',
        },
      );
    },
  };
}
