// API tokens and who may call what: tokens are `plb_` + 32 random bytes, stored only as sha256; roles are
// ordered viewer < operator < admin; without a token only read-only routes answer, and only on loopback.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Actor } from '../audit/entry.js';
import { AuditLedger } from '../audit/store.js';
import { type ApiToken, type ControllerStore, ROLES, type Role } from '../store/controller-store.js';
import { ForbiddenError, UnauthorizedError } from './errors.js';

export const TOKEN_PREFIX = 'plb_';

/** What a route needs: no check at all, or at least this role. */
export type Access = 'public' | Role;

/** Who is calling: a token's holder, or an unauthenticated local process (read-only). */
export type Principal =
  | { readonly kind: 'token'; readonly id: string; readonly name: string; readonly role: Role }
  | { readonly kind: 'loopback' };

/** Hex sha256 of a presented token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates a token; the returned `token` is the only copy there will ever be. */
export async function createToken(
  store: ControllerStore,
  options: { readonly name: string; readonly role: Role; readonly actor?: Actor },
): Promise<{ readonly token: string; readonly id: string; readonly stored: ApiToken }> {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const id = randomUUID();
  // The token and its ledger entry commit together (the ledger's tables are in every controller store).
  const stored = await store.transaction(async (tx) => {
    const inserted = await tx.insertToken({
      id,
      name: options.name,
      role: options.role,
      tokenHash: hashToken(token),
    });
    await new AuditLedger(tx.db).append(
      {
        actor: options.actor ?? localActor(),
        action: 'token.created',
        after: { id, name: options.name, role: options.role },
        reason: `an API token with the ${options.role} role`,
      },
      tx.db,
    );
    return inserted;
  });
  return { token, id, stored };
}

/** The person at this machine (the CLI's `token create` reads the store directly). */
function localActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep "unknown"
  }
  return { kind: 'person', id: `${user}@${hostname()}` };
}

/** Two hex digests compared in time that depends only on their length (always 64 here). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  if (left.length !== right.length || left.length === 0) return false;
  return timingSafeEqual(left, right);
}

// Updating last_used_at on every request would turn reads into writes; once a minute is enough to audit.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * The stored token a presented one is, or undefined. The lookup is by sha256, so its timing says nothing
 * useful about the token; the stored digest is then confirmed with a constant-time compare.
 */
export async function verifyToken(store: ControllerStore, presented: string): Promise<ApiToken | undefined> {
  if (!presented.startsWith(TOKEN_PREFIX)) return undefined;
  const digest = hashToken(presented);
  const found = await store.findTokenByHash(digest);
  if (found === undefined || !digestsEqual(found.tokenHash, digest)) return undefined;
  const last = found.lastUsedAt === null ? 0 : Date.parse(found.lastUsedAt);
  if (Date.now() - last >= TOUCH_INTERVAL_MS) await store.touchToken(found.id);
  const { tokenHash: _hash, ...token } = found;
  return token;
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.has(address);
}

export interface AuthorizeRequest {
  /** The raw `Authorization` header, if any. */
  readonly authorization: string | undefined;
  /** The socket's peer address (never a forwarded header). */
  readonly remoteAddress: string | undefined;
}

export interface AuthorizeOptions {
  /** When true, loopback requests need a token too. */
  readonly tokenRequired: boolean;
}

/** Decides a request's principal for a route, or throws UnauthorizedError / ForbiddenError. */
export async function authorize(
  store: ControllerStore,
  access: Access,
  request: AuthorizeRequest,
  options: AuthorizeOptions,
): Promise<Principal | undefined> {
  if (access === 'public') return undefined;
  const header = request.authorization;
  if (header === undefined || header === '') {
    if (access === 'viewer' && !options.tokenRequired && isLoopback(request.remoteAddress)) {
      return { kind: 'loopback' };
    }
    throw new UnauthorizedError(
      'this request needs an API token',
      access === 'viewer'
        ? 'send `Authorization: Bearer plb_…` (without a token, only reads from this host are allowed)'
        : `send \`Authorization: Bearer plb_…\` with a token of role ${access} or higher`,
    );
  }
  const match = /^Bearer ([^\s]+)$/i.exec(header);
  const token = match?.[1] === undefined ? undefined : await verifyToken(store, match[1]);
  if (token === undefined) {
    throw new UnauthorizedError(
      'the API token is not valid',
      'send `Authorization: Bearer plb_…` with a token from `plumbline token create`; it may have been deleted',
    );
  }
  if (!roleAtLeast(token.role, access)) {
    throw new ForbiddenError(
      `token "${token.name}" has role ${token.role}; this needs ${access}`,
      `use a token of role ${access} or higher`,
    );
  }
  return { kind: 'token', id: token.id, name: token.name, role: token.role };
}
