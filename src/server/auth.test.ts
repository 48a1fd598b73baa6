// Tokens: the format, stored only as sha256 (checked in the database file's bytes), verified with a
// constant-time compare, roles in order, and who may call what without a token.
import type * as Crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ControllerStore, openControllerStore } from '../store/controller-store.js';
import { CONTROLLER_DB_FILE } from '../store/db.js';
import {
  authorize,
  createToken,
  digestsEqual,
  hashToken,
  isLoopback,
  roleAtLeast,
  verifyToken,
} from './auth.js';
import { ForbiddenError, UnauthorizedError } from './errors.js';

// Wrap the real timingSafeEqual so the tests can see it is what decides.
const timingSafeEqual = vi.hoisted(() => ({ calls: [] as [number, number][] }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  return {
    ...actual,
    timingSafeEqual(a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean {
      timingSafeEqual.calls.push([a.byteLength, b.byteLength]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

let dir: string;
let store: ControllerStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-auth-'));
  store = await openControllerStore({ dataDir: dir });
  timingSafeEqual.calls.length = 0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createToken', () => {
  it('makes plb_ + 32 random bytes in base64url and stores only its sha256', async () => {
    const { token, id } = await createToken(store, { name: 'ci', role: 'operator' });
    expect(token).toMatch(/^plb_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    const [stored] = await store.db.selectFrom('api_tokens').selectAll().execute();
    expect(stored).toMatchObject({ id, name: 'ci', role: 'operator' });
    expect(stored?.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(Object.values(stored ?? {})).not.toContain(token);
  });

  it('leaves the raw token nowhere in the database files', async () => {
    const tokens: string[] = [];
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      tokens.push((await createToken(store, { name: role, role })).token);
    }
    const files = [CONTROLLER_DB_FILE, `${CONTROLLER_DB_FILE}-wal`]
      .map((file) => join(dir, file))
      .filter((file) => existsSync(file));
    const check = (): void => {
      const bytes = Buffer.concat(files.filter((file) => existsSync(file)).map((file) => readFileSync(file)));
      for (const token of tokens) {
        expect(bytes.includes(token)).toBe(false);
        expect(bytes.includes(token.slice(4))).toBe(false);
        // The test reads the right bytes: the hash is there.
        expect(bytes.includes(hashToken(token))).toBe(true);
      }
    };
    check();
    await store.close();
    check();
    store = await openControllerStore({ dataDir: dir });
  });
});

describe('verifyToken', () => {
  it('accepts the token, compares the digests with timingSafeEqual on 32-byte buffers, and notes its use', async () => {
    const { token, id } = await createToken(store, { name: 'ci', role: 'viewer' });
    const verified = await verifyToken(store, token);
    expect(verified).toMatchObject({ id, name: 'ci', role: 'viewer' });
    expect(verified).not.toHaveProperty('tokenHash');
    expect(timingSafeEqual.calls).toEqual([[32, 32]]);
    expect((await store.listTokens())[0]?.lastUsedAt).not.toBeNull();
  });

  it('refuses a changed, truncated, extended, unprefixed or deleted token without throwing', async () => {
    const { token, id } = await createToken(store, { name: 'ci', role: 'viewer' });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    for (const presented of [
      `${token.slice(0, -1)}${last}`,
      token.slice(0, -1),
      `${token}A`,
      token.slice(4),
      '',
      'plb_',
    ]) {
      expect(await verifyToken(store, presented)).toBeUndefined();
    }
    await store.deleteToken(id);
    expect(await verifyToken(store, token)).toBeUndefined();
  });

  it('digestsEqual is false for different lengths and for empty input, instead of throwing', () => {
    const digest = hashToken('plb_x');
    expect(digestsEqual(digest, digest)).toBe(true);
    expect(digestsEqual(digest, digest.slice(0, 62))).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
    expect(digestsEqual(digest, hashToken('plb_y'))).toBe(false);
  });
});

describe('roles and access', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(roleAtLeast('operator', 'viewer')).toBe(true);
    expect(roleAtLeast('operator', 'admin')).toBe(false);
    expect(roleAtLeast('admin', 'operator')).toBe(true);
  });

  it('knows loopback addresses, IPv4-mapped included, and nothing else', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address)).toBe(true);
    for (const address of ['10.0.0.1', '127.0.0.2', '::', undefined]) expect(isLoopback(address)).toBe(false);
  });

  it('lets a loopback caller without a token read, and nothing more', async () => {
    const local = { authorization: undefined, remoteAddress: '127.0.0.1' };
    expect(await authorize(store, 'viewer', local, { tokenRequired: false })).toEqual({ kind: 'loopback' });
    expect(await authorize(store, 'public', local, { tokenRequired: true })).toBeUndefined();
    await expect(authorize(store, 'operator', local, { tokenRequired: false })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await expect(authorize(store, 'viewer', local, { tokenRequired: true })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await expect(
      authorize(
        store,
        'viewer',
        { authorization: undefined, remoteAddress: '192.0.2.1' },
        { tokenRequired: false },
      ),
    ).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('maps a token to its principal, and a role too low to ForbiddenError', async () => {
    const { token, id } = await createToken(store, { name: 'ops', role: 'operator' });
    const request = { authorization: `Bearer ${token}`, remoteAddress: '192.0.2.1' };
    const options = { tokenRequired: true };
    expect(await authorize(store, 'operator', request, options)).toEqual({
      kind: 'token',
      id,
      name: 'ops',
      role: 'operator',
    });
    await expect(authorize(store, 'admin', request, options)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      authorize(store, 'viewer', { ...request, authorization: `Basic ${token}` }, options),
    ).rejects.toBeInstanceOf(UnauthorizedError);
  });
});
