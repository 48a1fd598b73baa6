// The router's routing decisions as small pure functions: smooth weighted round robin, which headers cross
// the proxy, and when a failed attempt may be retried on another backend.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

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
  excluded: ReadonlySet<number> = new Set(),
): WeightedPick {
  const next = weights.map((_, index) => current[index] ?? 0);
  let total = 0;
  let best: number | undefined;
  for (let index = 0; index < weights.length; index++) {
    const weight = weights[index] ?? 0;
    if (weight <= 0 || excluded.has(index)) continue;
    const value = (next[index] ?? 0) + weight;
    next[index] = value;
    total += weight;
    if (best === undefined || value > (next[best] ?? 0)) best = index;
  }
  if (best === undefined) return { index: undefined, current: next };
  next[best] = (next[best] ?? 0) - total;
  return { index: best, current: next };
}

/** Names listed in a Connection header are hop-by-hop too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  const tokens = new Set<string>();
  if (value === undefined) return tokens;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') tokens.add(name);
  }
  return tokens;
}

/** The headers without hop-by-hop ones (the fixed set and any named in Connection). */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface ClientFacts {
  /** The address the request came from. */
  readonly remoteAddress: string | undefined;
  /** `http` or `https`: how the client reached the router. */
  readonly proto: string;
}

/**
 * The headers sent to a backend: end-to-end headers as received (Host included, Expect dropped), X-Forwarded-For with the
 * client's address appended, X-Forwarded-Proto and X-Forwarded-Host set by the router (it is the edge on
 * this host, so a client's own values for those are replaced).
 */
export function forwardedRequestHeaders(
  headers: IncomingHttpHeaders,
  client: ClientFacts,
): OutgoingHttpHeaders {
  const out = endToEndHeaders(headers);
  // The router answered any `Expect: 100-continue` itself; the backend gets the body without asking.
  delete out.expect;
  const address = client.remoteAddress?.replace(/^::ffff:/, '');
  const prior = headers['x-forwarded-for'];
  if (address !== undefined) out['x-forwarded-for'] = prior === undefined ? address : `${prior}, ${address}`;
  out['x-forwarded-proto'] = client.proto;
  if (headers.host !== undefined) out['x-forwarded-host'] = headers.host;
  return out;
}

/** Whether the request carries a body: a non-zero Content-Length or any Transfer-Encoding. */
export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length.trim() !== '0';
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
