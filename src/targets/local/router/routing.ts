// The router's routing decisions as small pure functions: smooth weighted round robin, revision shares as
// backend weights, sticky-session cookies, which headers cross the proxy, and when a failed attempt may be
// retried on another backend.

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1, plus the common extras). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Methods a client may repeat without changing the result beyond the first call (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Connection failures that count as a backend error and end in a 502 when not retried. */
const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/** The failures a retry may follow: nothing came back, and (for a refusal) nothing reached the backend. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET']);

export interface WeightedPick {
  /** The chosen index, or undefined when no eligible backend has a weight above 0. */
  readonly index: number | undefined;
  /** The round-robin state to use for the next pick. */
  readonly current: readonly number[];
}

/**
 * Smooth weighted round robin (nginx's): every eligible backend's current value grows by its weight, the
 * largest wins and gives back the total. Over any window of sum(weights) picks each backend is chosen
 * exactly weight times, interleaved rather than in bursts. `excluded` indexes are skipped (a retry).
 */
export function smoothWeightedPick(
  current: readonly number[],
  weights: readonly number[],
  excluded?: ReadonlySet<number>,
): WeightedPick {
  const next = weights.map((_, index) => current[index] ?? 0);
  return { index: pickWeighted(next, weights, excluded), current: next };
}

/** `smoothWeightedPick` updating `current` in place (the request path: no allocation per pick). */
export function pickWeighted(
  current: number[],
  weights: readonly number[],
  excluded?: ReadonlySet<number>,
): number | undefined {
  let total = 0;
  let best = -1;
  let bestValue = 0;
  for (let index = 0; index < weights.length; index++) {
    const weight = weights[index] as number;
    if (weight <= 0 || excluded?.has(index) === true) continue;
    const value = (current[index] as number) + weight;
    current[index] = value;
    total += weight;
    if (best === -1 || value > bestValue) {
      best = index;
      bestValue = value;
    }
  }
  if (best === -1) return undefined;
  current[best] = bestValue - total;
  return best;
}

/** The round of picks `spreadWeights` scales a route's weights to: shares are exact to a tenth of a percent. */
export const WEIGHT_SCALE = 1000;

/**
 * Per-backend integer weights that give each revision exactly its share of traffic over a round of `scale`
 * picks: revision totals by the largest remainder (so they add up to `scale`), each total spread evenly over
 * the revision's backends (the first ones take the odd units). Shares are relative (percentages, usually);
 * a revision without a share, or a share of 0, gets weight 0 on every backend (kept, taking no new requests).
 */
export function spreadWeights<B extends { readonly revision: string }>(
  backends: readonly B[],
  shares: Readonly<Record<string, number>>,
  scale = WEIGHT_SCALE,
): (B & { weight: number })[] {
  const counts = new Map<string, number>();
  for (const backend of backends) counts.set(backend.revision, (counts.get(backend.revision) ?? 0) + 1);
  const revisions = [...counts.keys()].filter((revision) => (shares[revision] ?? 0) > 0);
  const sum = revisions.reduce((total, revision) => total + (shares[revision] ?? 0), 0);
  const totals = new Map<string, number>();
  if (sum > 0) {
    const exact = revisions.map((revision) => ((shares[revision] ?? 0) / sum) * scale);
    const floors = exact.map(Math.floor);
    let left = scale - floors.reduce((a, b) => a + b, 0);
    const byRemainder = exact.map((value, index) => ({ index, rest: value - Math.floor(value) }));
    byRemainder.sort((a, b) => b.rest - a.rest || a.index - b.index);
    for (const { index } of byRemainder) {
      if (left <= 0) break;
      floors[index] = (floors[index] ?? 0) + 1;
      left -= 1;
    }
    revisions.forEach((revision, index) => {
      totals.set(revision, floors[index] ?? 0);
    });
  }
  const seen = new Map<string, number>();
  return backends.map((backend) => {
    const total = totals.get(backend.revision) ?? 0;
    const count = counts.get(backend.revision) ?? 1;
    const position = seen.get(backend.revision) ?? 0;
    seen.set(backend.revision, position + 1);
    const weight = Math.floor(total / count) + (position < total % count ? 1 : 0);
    return { ...backend, weight };
  });
}

/**
 * The sticky-session cookie of the route on `port`. Browsers send a host's cookies to every port of it, so
 * the name carries the port: two apps on one host do not pin each other's clients.
 */
export function stickyCookieName(port: number): string {
  return `plumbline-rev-${port}`;
}

/** A revision as a cookie value (RFC 6265 cookie-octets): percent-encoded. */
export function stickyCookieValue(revision: string): string {
  return encodeURIComponent(revision);
}

/** The Set-Cookie header that pins a client to `revision` on the route on `port`. */
export function stickyCookie(port: number, revision: string): string {
  return `${stickyCookieName(port)}=${stickyCookieValue(revision)}; Path=/; HttpOnly; SameSite=Lax`;
}

/** The value of cookie `name` in a Cookie header (`a=1; b=2`), as sent (not decoded); undefined if absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let from = 0;
  while (from < header.length) {
    const end = header.indexOf(';', from);
    const stop = end === -1 ? header.length : end;
    const equals = header.indexOf('=', from);
    if (equals !== -1 && equals < stop && header.slice(from, equals).trim() === name) {
      return header.slice(equals + 1, stop).trim();
    }
    from = stop + 1;
  }
  return undefined;
}

/** What the router does with a request header by name (lower case); absent: forwards it as it is. */
const REQUEST_HEADER_ACTION = new Map<string, 'drop' | 'host' | 'xff' | 'body' | 'connection'>([
  ...[...HOP_BY_HOP].map((name) => [name, 'drop'] as const),
  ['connection', 'connection'],
  ['transfer-encoding', 'body'],
  ['content-length', 'body'],
  // The router answered any `Expect: 100-continue` itself; the backend gets the body without asking.
  ['expect', 'drop'],
  // The router is the edge on this host: a client's own values for these are replaced.
  ['x-forwarded-proto', 'drop'],
  ['x-forwarded-host', 'drop'],
  ['x-forwarded-for', 'xff'],
  ['host', 'host'],
]);

const KEPT_DESPITE_CONNECTION = new Set(['close', 'keep-alive', 'host', 'content-length']);

/** The header names a Connection header lists, other than the ones already dropped. */
function connectionTokens(value: string, into: Set<string>): void {
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    // Host and the body's framing are never dropped on a client's say-so.
    if (name !== '' && !KEPT_DESPITE_CONNECTION.has(name)) into.add(name);
  }
}

/** Removes the headers named in `names` from a flat [name, value, …] list, in place. */
function dropNamed(headers: string[], names: ReadonlySet<string>): string[] {
  let out = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (names.has(name.toLowerCase())) continue;
    headers[out] = name;
    headers[out + 1] = headers[i + 1] as string;
    out += 2;
  }
  headers.length = out;
  return headers;
}

/**
 * A response's headers without hop-by-hop ones (the fixed set and any named in Connection), from the record
 * undici gives (lower-case names, repeated headers as arrays).
 */
export function endToEndHeaderRecord(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | string[]> {
  let named: Set<string> | undefined;
  const connection = headers.connection;
  if (connection !== undefined) {
    named = new Set();
    for (const value of Array.isArray(connection) ? connection : [connection]) connectionTokens(value, named);
  }
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name) === true) continue;
    out[name] = value;
  }
  return out;
}

export interface ClientFacts {
  /** The address the request came from. */
  readonly remoteAddress: string | undefined;
  /** `http` or `https`: how the client reached the router. */
  readonly proto: string;
  /** The Host to send when the client sent none (an HTTP/1.0 client): the backend's own address. */
  readonly defaultHost: string;
}

export interface ForwardedRequest {
  /** The headers for the backend, a flat [name, value, …] list for `http.request`. */
  readonly headers: string[];
  /** Whether the request carries a body: a non-zero Content-Length or any Transfer-Encoding. */
  readonly hasBody: boolean;
}

/**
 * The headers sent to a backend, from the client's `rawHeaders`: end-to-end headers as received (Host
 * included, Expect dropped), X-Forwarded-For with the client's address appended, X-Forwarded-Proto and
 * X-Forwarded-Host set by the router. One pass over the list, no header object.
 */
export function forwardedRequest(raw: readonly string[], client: ClientFacts): ForwardedRequest {
  const out: string[] = [];
  let host: string | undefined;
  let prior: string | undefined;
  let hasBody = false;
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    const action = REQUEST_HEADER_ACTION.get(lower);
    if (action === undefined) {
      out.push(name, value);
      continue;
    }
    switch (action) {
      case 'host':
        host ??= value;
        out.push(name, value);
        break;
      case 'xff':
        prior = prior === undefined ? value : `${prior}, ${value}`;
        break;
      case 'body':
        if (lower === 'transfer-encoding') hasBody = true;
        else {
          if (value.trim() !== '0') hasBody = true;
          out.push(name, value);
        }
        break;
      case 'connection':
        named ??= new Set();
        connectionTokens(value, named);
        break;
      case 'drop':
        break;
    }
  }
  if (named !== undefined && named.size > 0) dropNamed(out, named);
  if (host === undefined) out.push('Host', client.defaultHost);
  const address = client.remoteAddress?.replace(/^::ffff:/, '');
  if (address !== undefined)
    out.push('X-Forwarded-For', prior === undefined ? address : `${prior}, ${address}`);
  else if (prior !== undefined) out.push('X-Forwarded-For', prior);
  out.push('X-Forwarded-Proto', client.proto);
  if (host !== undefined) out.push('X-Forwarded-Host', host);
  return { headers: out, hasBody };
}

export function isIdempotent(method: string | undefined): boolean {
  return IDEMPOTENT.has((method ?? 'GET').toUpperCase());
}

export function isConnectionFailure(code: string | undefined): boolean {
  return code !== undefined && CONNECTION_FAILURES.has(code);
}

export interface FailedAttempt {
  /** The error's code (`ECONNREFUSED`, …). */
  readonly code: string | undefined;
  readonly method: string | undefined;
  readonly hasBody: boolean;
  /** Whether any byte of the request body was handed to the backend's connection. */
  readonly bodySent: boolean;
  /** Whether any byte of a response arrived. */
  readonly responded: boolean;
  /** 1 for the first attempt: only one retry is made. */
  readonly attempt: number;
}

/**
 * A failed attempt is retried once when the connection failed before any response byte, and replaying is
 * safe: the request has no body or is idempotent, and (since bodies are streamed, not kept) none of its
 * body was sent yet. A refused connection reached no backend, so it is retried whatever the method.
 */
export function shouldRetry(failed: FailedAttempt): boolean {
  if (failed.attempt > 1 || failed.responded || failed.bodySent) return false;
  if (failed.code === undefined || !RETRYABLE.has(failed.code)) return false;
  return failed.code === 'ECONNREFUSED' || !failed.hasBody || isIdempotent(failed.method);
}
