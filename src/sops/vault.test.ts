// The Vault KV v2 client against a stand-in server (vault.test-helper.ts): no Vault server can run here, so
// the stand-in follows Vault's documented KV v2 and AppRole APIs, over real HTTP on loopback.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecretsError } from './errors.js';
import { createVaultClient, kv2ApiPath, vaultOptionsFromEnv } from './vault.js';
import { type FakeVault, startFakeVault } from './vault.test-helper.js';

const TOKEN = 'hvs.T0kenThatMustNeverBePrinted';
const SECRET_ID = 'secret-id-that-must-never-be-printed';
let vault: FakeVault;

beforeAll(async () => {
  vault = await startFakeVault({ roleId: 'role-1', secretId: SECRET_ID });
  vault.tokens.set(TOKEN, ['secret/data/web', 'secret/data/gone', 'secret/data/missing']);
  vault.tokens.set('hvs.limited', ['secret/data/other']);
  vault.secrets.set('secret/data/web', {
    data: { password: 'pw-1', port: 5432, on: true, nested: { a: 1 }, nil: null },
    version: 3,
  });
  vault.secrets.set('secret/data/gone', { data: {}, version: 2, deleted: true });
});
afterAll(() => vault.close());
afterEach(() => {
  vault.failWith = undefined;
});

async function failure(run: () => Promise<unknown>): Promise<SecretsError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SecretsError) return error;
    throw error;
  }
  throw new Error('expected a SecretsError');
}

function clean(e: SecretsError): void {
  const text = `${e.message} ${e.hint ?? ''}`;
  for (const s of [TOKEN, SECRET_ID, 'pw-1']) expect(text).not.toContain(s);
}

describe('reading KV v2 with a token', () => {
  it('reads a secret and its keys, sending the token header', async () => {
    const client = createVaultClient({ address: `${vault.address}/`, token: TOKEN });
    const secret = await client.read('secret/data/web');
    expect(secret.version).toBe(3);
    expect(await client.readKey('secret/data/web', 'password')).toBe('pw-1');
    expect(await client.readKey('secret/web', 'port')).toBe('5432');
    expect(await client.readKey('secret/data/web', 'on')).toBe('true');
    const last = vault.requests.at(-1);
    expect(last?.url).toBe('/v1/secret/data/web');
    expect(last?.token).toBe(TOKEN);
  });

  it('sends X-Vault-Namespace when one is set', async () => {
    const ns = await startFakeVault({ namespace: 'team-a' });
    ns.tokens.set(TOKEN, ['secret/']);
    ns.secrets.set('secret/data/x', { data: { k: 'v' }, version: 1 });
    try {
      expect(
        await createVaultClient({ address: ns.address, token: TOKEN, namespace: 'team-a' }).readKey(
          'secret/data/x',
          'k',
        ),
      ).toBe('v');
      const e = await failure(() =>
        createVaultClient({ address: ns.address, token: TOKEN }).read('secret/data/x'),
      );
      expect(e.reason).toBe('denied');
    } finally {
      await ns.close();
    }
  });

  it.each([
    [
      'a missing secret',
      'secret/data/missing',
      'password',
      'not-found',
      /no secret at secret\/data\/missing/,
    ],
    ['a deleted secret', 'secret/data/gone', 'password', 'not-found', /latest version was deleted/],
    [
      'a path the token may not read',
      'secret/data/forbidden',
      'password',
      'denied',
      /denied reading secret\/data\/forbidden \(HTTP 403\)/,
    ],
    ['a missing key', 'secret/data/web', 'nope', 'missing-key', /has no key "nope"/],
    ['a key holding a mapping', 'secret/data/web', 'nested', 'missing-key', /not a plain value/],
    ['a key holding null', 'secret/data/web', 'nil', 'missing-key', /is null/],
  ])('explains %s, leaking nothing', async (_what, path, key, reason, message) => {
    const e = await failure(() =>
      createVaultClient({ address: vault.address, token: TOKEN }).readKey(path, key),
    );
    expect(e.reason).toBe(reason);
    expect(e.message).toMatch(message);
    expect(e.transient).toBe(false);
    clean(e);
  });

  it('lists the key names (never values) when a key is missing', async () => {
    const e = await failure(() =>
      createVaultClient({ address: vault.address, token: TOKEN }).readKey('secret/data/web', 'nope'),
    );
    expect(e.hint).toBe('it has: nested, nil, on, password, port');
  });

  it('marks outages as transient', async () => {
    vault.failWith = 503;
    const e = await failure(() =>
      createVaultClient({ address: vault.address, token: TOKEN }).read('secret/data/web'),
    );
    expect(e.reason).toBe('unavailable');
    expect(e.transient).toBe(true);
    expect(e.message).toMatch(/HTTP 503.*Vault is sealed/);
  });

  it('marks an unreachable server and a timeout as transient', async () => {
    const down = await failure(() =>
      createVaultClient({ address: 'http://127.0.0.1:9', token: TOKEN }).read('secret/data/web'),
    );
    expect(down.reason).toBe('unavailable');
    expect(down.message).toMatch(/cannot connect/);
    clean(down);
    const slow = await failure(() =>
      createVaultClient({
        address: vault.address,
        token: TOKEN,
        timeoutMs: 50,
        fetch: (_url, init) =>
          new Promise((_resolve, reject) => {
            init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
          }),
      }).read('secret/data/web'),
    );
    expect(slow.message).toMatch(/no answer within 50 ms/);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const e = await failure(() =>
      createVaultClient({ address: vault.address, token: TOKEN }).read('secret/data/web', {
        signal: controller.signal,
      }),
    );
    expect(e.message).toMatch(/aborted/);
  });
});

describe('AppRole', () => {
  it('logs in once and reuses the token', async () => {
    const client = createVaultClient({ address: vault.address, roleId: 'role-1', secretId: SECRET_ID });
    const before = vault.requests.length;
    expect(await client.readKey('secret/data/web', 'password')).toBe('pw-1');
    expect(await client.readKey('secret/data/web', 'port')).toBe('5432');
    const made = vault.requests.slice(before);
    expect(made.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v1/auth/approle/login',
      'GET /v1/secret/data/web',
      'GET /v1/secret/data/web',
    ]);
    expect(made[1]?.token).toMatch(/^hvs\.approle/);
  });

  it('logs in again when the token stops working', async () => {
    const client = createVaultClient({ address: vault.address, roleId: 'role-1', secretId: SECRET_ID });
    await client.read('secret/data/web');
    vault.tokens.clear();
    vault.tokens.set(TOKEN, ['secret/data/web']);
    expect(await client.readKey('secret/data/web', 'password')).toBe('pw-1');
  });

  it('explains a failed login without printing the secret id', async () => {
    const e = await failure(() =>
      createVaultClient({ address: vault.address, roleId: 'role-1', secretId: `${SECRET_ID}-wrong` }).read(
        'secret/data/web',
      ),
    );
    expect(e.reason).toBe('denied');
    expect(e.message).toMatch(/AppRole login failed with HTTP 400/);
    expect(e.message).not.toContain(SECRET_ID);
  });
});

describe('options', () => {
  it.each([
    [{ address: 'not a url', token: 't' }, /is not a URL/],
    [{ address: 'ftp://vault', token: 't' }, /http or https/],
    [{ address: 'https://user:pw@vault', token: 't' }, /must not hold credentials/],
    [{ address: 'https://vault' }, /needs a token or AppRole/],
  ])('refuses %j when built', (options, message) => {
    expect(() => createVaultClient(options)).toThrow(message);
  });

  it('reads the controller environment', () => {
    expect(vaultOptionsFromEnv({})).toBeUndefined();
    expect(
      vaultOptionsFromEnv({
        VAULT_ADDR: 'https://v',
        VAULT_TOKEN: 't',
        VAULT_NAMESPACE: 'ns',
        VAULT_ROLE_ID: '',
      }),
    ).toEqual({ address: 'https://v', token: 't', namespace: 'ns' });
    expect(
      vaultOptionsFromEnv({ VAULT_ADDR: 'https://v', VAULT_ROLE_ID: 'r', VAULT_SECRET_ID: 's' }),
    ).toEqual({
      address: 'https://v',
      roleId: 'r',
      secretId: 's',
    });
  });

  it.each([
    ['secret/data/web', 'secret/data/web'],
    ['secret/web', 'secret/data/web'],
    ['/secret/web/', 'secret/data/web'],
    ['kv/team-a/data/app', 'kv/team-a/data/app'],
    ['secret/a b', 'secret/data/a%20b'],
  ])('maps %s to the API path %s', (path, api) => {
    expect(kv2ApiPath(path)).toBe(api);
  });

  it.each(['web', 'secret/../sys/x', ''])('refuses the path %j', (path) => {
    expect(() => kv2ApiPath(path)).toThrow(/not a KV v2 secret path/);
  });
});
