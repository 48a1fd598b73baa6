// The optional online source: the OSV API's querybatch for ids, then the full documents, fetched with a bound.
import { z } from 'zod';
import { InputError } from '../../../errors.js';
import type { PackageVersion } from './match.js';
import { normaliseEcosystem, type OsvVuln, parseOsvDocument } from './schema.js';

export interface OnlineOptions {
  /** Default `https://api.osv.dev`. */
  readonly baseUrl?: string;
  /** Per request, body included. Default 10,000 ms. */
  readonly timeoutMs?: number;
  /** Default the global `fetch`. */
  readonly fetchImpl?: typeof fetch;
  /** Documents fetched at once. Default 8. */
  readonly concurrency?: number;
  /** Queries per querybatch request; the API takes at most 1000. */
  readonly batchSize?: number;
}

export interface OnlineResult {
  /** The documents affecting each package, aligned with the input, sorted by id. */
  readonly results: OsvVuln[][];
  /** Documents the API named but that could not be used, with counts (`not found`, `id: …`). */
  readonly skippedReasons: Readonly<Record<string, number>>;
}

const OFFLINE_HINT = 'run offline with `plumbline db import`';
const MAX_BATCH = 1000;
const MAX_PAGES = 20;

const batchResponse = z.looseObject({
  results: z.array(
    z.looseObject({
      vulns: z.array(z.looseObject({ id: z.string(), modified: z.string().optional() })).optional(),
      next_page_token: z.string().optional(),
    }),
  ),
});

interface Query {
  package: { ecosystem: string; name: string };
  version: string;
  page_token?: string;
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    return code === undefined ? cause.message : `${code} (${cause.message})`;
  }
  return error.message;
}

/** One request with a deadline covering the body; network failures and timeouts become InputErrors. */
async function requestJson(
  fetchImpl: typeof fetch,
  baseUrl: string,
  path: string,
  timeoutMs: number,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetchImpl(`${baseUrl}${path}`, { ...init, signal: controller.signal });
    const text = await response.text();
    if (!response.ok) return { status: response.status, body: undefined };
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      throw new InputError(
        `the OSV API at ${baseUrl} answered ${path} with something that is not JSON`,
        OFFLINE_HINT,
      );
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    const reason = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : reasonOf(error);
    throw new InputError(`cannot reach the OSV API at ${baseUrl}: ${reason}`, OFFLINE_HINT);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `work` over `items` with at most `limit` in flight; the first failure rejects. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Asks the OSV API which documents affect each package (`POST /v1/querybatch`, identical packages once, at most
 * 1000 queries a request, following `next_page_token`s), then fetches each distinct document once
 * (`GET /v1/vulns/{id}`, `concurrency` at a time). Go versions are sent without their `v` (as OSV writes them).
 * Withdrawn documents are dropped. A network failure, a timeout or an HTTP error raises an InputError whose hint
 * says how to run offline.
 */
export async function queryOsvBatch(
  packages: readonly PackageVersion[],
  options: OnlineOptions = {},
): Promise<OnlineResult> {
  const baseUrl = (options.baseUrl ?? 'https://api.osv.dev').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const fetchImpl = options.fetchImpl ?? fetch;
  const batchSize = Math.max(1, Math.min(options.batchSize ?? MAX_BATCH, MAX_BATCH));
  const concurrency = options.concurrency ?? 8;

  // Identical packages are asked once: `slot[i]` is the query that answers package i.
  const queries: Query[] = [];
  const slotOf = new Map<string, number>();
  const slot = packages.map((pkg) => {
    const ecosystem = normaliseEcosystem(pkg.ecosystem);
    const query: Query = {
      package: { ecosystem, name: pkg.name },
      version: ecosystem === 'Go' ? pkg.version.replace(/^v/, '') : pkg.version,
    };
    const key = JSON.stringify(query);
    let index = slotOf.get(key);
    if (index === undefined) {
      index = queries.push(query) - 1;
      slotOf.set(key, index);
    }
    return index;
  });
  const idsPer: Set<string>[] = queries.map(() => new Set<string>());

  let pending = queries.map((query, index) => ({ query, index }));
  for (let page = 0; pending.length > 0; page++) {
    if (page >= MAX_PAGES)
      throw new InputError(`the OSV API at ${baseUrl} kept paginating past ${MAX_PAGES} pages`);
    const next: typeof pending = [];
    for (let start = 0; start < pending.length; start += batchSize) {
      const chunk = pending.slice(start, start + batchSize);
      const { status, body } = await requestJson(fetchImpl, baseUrl, '/v1/querybatch', timeoutMs, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ queries: chunk.map((c) => c.query) }),
      });
      if (body === undefined) {
        throw new InputError(
          `the OSV API at ${baseUrl} answered querybatch with HTTP ${status}`,
          OFFLINE_HINT,
        );
      }
      const parsed = batchResponse.safeParse(body);
      if (!parsed.success || parsed.data.results.length !== chunk.length) {
        throw new InputError(
          `the OSV API at ${baseUrl} answered querybatch with an unexpected shape`,
          OFFLINE_HINT,
        );
      }
      parsed.data.results.forEach((result, i) => {
        const item = chunk[i];
        if (item === undefined) return;
        for (const v of result.vulns ?? []) idsPer[item.index]?.add(v.id);
        if (result.next_page_token !== undefined && result.next_page_token !== '') {
          next.push({ query: { ...item.query, page_token: result.next_page_token }, index: item.index });
        }
      });
    }
    pending = next;
  }

  const ids = [...new Set(idsPer.flatMap((set) => [...set]))].sort();
  const skippedReasons: Record<string, number> = {};
  function skip(reason: string): void {
    skippedReasons[reason] = (skippedReasons[reason] ?? 0) + 1;
  }
  const docs = await mapLimited(ids, concurrency, async (id) => {
    const { status, body } = await requestJson(
      fetchImpl,
      baseUrl,
      `/v1/vulns/${encodeURIComponent(id)}`,
      timeoutMs,
    );
    if (status === 404) {
      skip('not found');
      return undefined;
    }
    if (body === undefined) {
      throw new InputError(
        `the OSV API at ${baseUrl} answered /v1/vulns/${id} with HTTP ${status}`,
        OFFLINE_HINT,
      );
    }
    const parsed = parseOsvDocument(body);
    if (!parsed.ok) {
      skip(parsed.reason);
      return undefined;
    }
    return parsed.vuln;
  });
  const byId = new Map<string, OsvVuln>();
  for (const doc of docs) if (doc !== undefined && doc.withdrawn === undefined) byId.set(doc.id, doc);

  const perQuery = idsPer.map((set) =>
    [...set]
      .sort()
      .map((id) => byId.get(id))
      .filter((v): v is OsvVuln => v !== undefined),
  );
  const results = slot.map((index) => perQuery[index] ?? []);
  return { results, skippedReasons };
}
