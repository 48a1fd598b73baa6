// The online OSV source against real local HTTP servers on 127.0.0.1: canned answers, a closed port, a silent server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../errors.js';
import { queryOsvBatch } from './online.js';
import type { OsvVuln } from './schema.js';

interface Query {
  package: { ecosystem: string; name: string };
  version: string;
  page_token?: string;
}

const DOCS: Record<string, OsvVuln> = {
  'PYSEC-2018-28': {
    id: 'PYSEC-2018-28',
    modified: '2021-06-16T00:03:24Z',
    aliases: ['CVE-2018-18074', 'GHSA-x84v-xcm2-53pg'],
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'requests' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.20.0' }] }],
      },
    ],
  },
  'PYSEC-2023-74': {
    id: 'PYSEC-2023-74',
    modified: '2023-06-05T00:00:00Z',
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'requests' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.3.0' }, { fixed: '2.31.0' }] }],
      },
    ],
  },
  'GO-2022-0236': {
    id: 'GO-2022-0236',
    modified: '2024-01-01T00:00:00Z',
    affected: [
      {
        package: { ecosystem: 'Go', name: 'golang.org/x/net' },
        ranges: [
          { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.0.0-20210428140749-89ef3d95e781' }] },
        ],
      },
    ],
  },
  'GHSA-withdrawn': {
    id: 'GHSA-withdrawn',
    modified: '2024-01-01T00:00:00Z',
    withdrawn: '2024-02-01T00:00:00Z',
  },
};

/** Which ids the canned API answers for `ecosystem/name@version`; requests@2.19.0 is split over two pages. */
const ANSWERS: Record<string, string[]> = {
  'PyPI/requests@2.19.0': ['PYSEC-2018-28', 'PYSEC-2023-74'],
  'Go/golang.org/x/net@0.0.0-20210226172049-e18ecbb05110': ['GO-2022-0236', 'GHSA-withdrawn'],
  'npm/ghost@1.0.0': ['GHSA-missing'],
  'npm/broken@1.0.0': ['GHSA-broken'],
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('queryOsvBatch', () => {
  const log = { batches: [] as Query[][], gets: [] as string[], inFlight: 0, maxInFlight: 0 };
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        if (req.method === 'POST' && req.url === '/v1/querybatch') {
          const body = JSON.parse(await readBody(req)) as { queries: Query[] };
          log.batches.push(body.queries);
          const results = body.queries.map((q) => {
            const ids = ANSWERS[`${q.package.ecosystem}/${q.package.name}@${q.version}`] ?? [];
            if (ids.length > 1 && q.package.name === 'requests') {
              return q.page_token === 'page-2'
                ? { vulns: ids.slice(1).map((id) => ({ id })) }
                : { vulns: ids.slice(0, 1).map((id) => ({ id })), next_page_token: 'page-2' };
            }
            return ids.length === 0
              ? {}
              : { vulns: ids.map((id) => ({ id, modified: '2024-01-01T00:00:00Z' })) };
          });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
          return;
        }
        const m = /^\/v1\/vulns\/(.+)$/.exec(req.url ?? '');
        if (req.method === 'GET' && m?.[1] !== undefined) {
          const id = decodeURIComponent(m[1]);
          log.gets.push(id);
          log.inFlight += 1;
          log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
          await new Promise((r) => setTimeout(r, 20));
          log.inFlight -= 1;
          if (id === 'GHSA-broken') {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
            return;
          }
          const doc = DOCS[id];
          if (doc === undefined) res.writeHead(404).end('{"code":5,"message":"Bug not found."}');
          else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
          return;
        }
        res.writeHead(500).end('no');
      })();
    });
    baseUrl = await listen(server);
  });

  afterAll(async () => {
    await close(server);
  });

  it('asks querybatch, follows pages, fetches each document once, and aligns results', async () => {
    log.batches = [];
    log.gets = [];
    const packages = [
      { ecosystem: 'PyPI', name: 'requests', version: '2.19.0' },
      { ecosystem: 'Go', name: 'golang.org/x/net', version: 'v0.0.0-20210226172049-e18ecbb05110' },
      { ecosystem: 'npm', name: 'clean', version: '1.0.0' },
      { ecosystem: 'PyPI', name: 'requests', version: '2.19.0' },
      { ecosystem: 'npm', name: 'ghost', version: '1.0.0' },
      { ecosystem: 'npm', name: 'broken', version: '1.0.0' },
    ];
    const result = await queryOsvBatch(packages, { baseUrl: `${baseUrl}/`, batchSize: 4, concurrency: 2 });
    expect(result.results.map((list) => list.map((v) => v.id))).toEqual([
      ['PYSEC-2018-28', 'PYSEC-2023-74'],
      ['GO-2022-0236'],
      [],
      ['PYSEC-2018-28', 'PYSEC-2023-74'],
      [],
      [],
    ]);
    expect(result.results[1]?.[0]).toEqual(DOCS['GO-2022-0236']);
    expect(result.skippedReasons).toEqual({
      'not found': 1,
      'modified: Invalid input: expected string, received undefined': 1,
    });
    // The repeated package asked once; batches of at most 4, then the second page of the requests query; Go
    // versions without their v.
    expect(log.batches.map((b) => b.length)).toEqual([4, 1, 1]);
    expect(log.batches[0]?.[1]?.version).toBe('0.0.0-20210226172049-e18ecbb05110');
    expect(log.batches[2]?.every((q) => q.page_token === 'page-2')).toBe(true);
    // Each distinct id fetched once, two at a time.
    expect([...log.gets].sort()).toEqual([
      'GHSA-broken',
      'GHSA-missing',
      'GHSA-withdrawn',
      'GO-2022-0236',
      'PYSEC-2018-28',
      'PYSEC-2023-74',
    ]);
    expect(log.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('asks nothing for no packages', async () => {
    log.batches = [];
    expect(await queryOsvBatch([], { baseUrl })).toEqual({ results: [], skippedReasons: {} });
    expect(log.batches).toEqual([]);
  });

  it('turns an HTTP error into an InputError', async () => {
    const failing = createServer((_req, res) => {
      res.writeHead(503).end('down');
    });
    const url = await listen(failing);
    try {
      const error = await queryOsvBatch([{ ecosystem: 'npm', name: 'a', version: '1.0.0' }], {
        baseUrl: url,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe(`the OSV API at ${url} answered querybatch with HTTP 503`);
    } finally {
      await close(failing);
    }
  });

  it('fails clearly when nothing listens on the port', async () => {
    const probe = createServer();
    const url = await listen(probe);
    await close(probe);
    const error = await queryOsvBatch([{ ecosystem: 'npm', name: 'a', version: '1.0.0' }], {
      baseUrl: url,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const e = error as InputError;
    expect(e.code).toBe('PLUMBLINE_E_INPUT');
    expect(e.message).toMatch(new RegExp(`^cannot reach the OSV API at ${url}: ECONNREFUSED`));
    expect(e.hint).toBe('run offline with `plumbline db import`');
  });

  it('times out on a server that never answers', async () => {
    const silent = createServer(() => {
      // Accept the request and never answer.
    });
    const url = await listen(silent);
    try {
      const started = Date.now();
      const error = await queryOsvBatch([{ ecosystem: 'npm', name: 'a', version: '1.0.0' }], {
        baseUrl: url,
        timeoutMs: 300,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe(
        `cannot reach the OSV API at ${url}: no answer within 300 ms`,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await close(silent);
    }
  });

  it('rejects an answer of the wrong shape', async () => {
    const odd = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"results": []}');
    });
    const url = await listen(odd);
    try {
      await expect(
        queryOsvBatch([{ ecosystem: 'npm', name: 'a', version: '1.0.0' }], { baseUrl: url }),
      ).rejects.toThrow('answered querybatch with an unexpected shape');
    } finally {
      await close(odd);
    }
  });
});
