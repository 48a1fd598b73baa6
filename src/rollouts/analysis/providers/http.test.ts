// The HTTP call under the prometheus and web providers, against real servers on loopback: what goes wrong
// becomes a message that names the URL without its query or credentials.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { callJson, describeUrl } from './http.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const call = (url: string, timeoutMs = 2_000) =>
  callJson({ url, timeoutMs, signal: new AbortController().signal });

describe('callJson', () => {
  it('reads JSON, and keeps the start of what is not JSON', async () => {
    const url = await serve((req, res) => {
      res.writeHead(req.url === '/json' ? 200 : 502);
      res.end(req.url === '/json' ? '{"a":1}' : '<html>bad gateway</html>');
    });
    expect(await call(`${url}/json`)).toEqual({ status: 200, json: { a: 1 }, text: '{"a":1}' });
    expect(await call(`${url}/html`)).toEqual({
      status: 502,
      json: undefined,
      text: '<html>bad gateway</html>',
    });
  });

  it('refuses answers over 4 MiB, whether announced or streamed', async () => {
    const url = await serve((req, res) => {
      const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
      if (req.url?.startsWith('/announced') === true) {
        res.writeHead(200, { 'content-length': big.length });
        res.end(big);
        return;
      }
      res.writeHead(200);
      res.write(big.subarray(0, 3 * 1024 * 1024));
      res.end(big.subarray(3 * 1024 * 1024));
    });
    await expect(call(`${url}/announced?key=secret`)).rejects.toThrow(
      `${url}/announced answered 5242880 bytes, more than 4194304`,
    );
    await expect(call(`${url}/streamed`)).rejects.toThrow(`${url}/streamed answered more than 4194304 bytes`);
  });

  it('names a refused connection and a redirect without following it', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(302, { location: 'http://example.invalid/' });
      res.end();
    });
    await expect(call(`${url}/moved?token=secret`)).rejects.toThrow(
      new RegExp(`^${url}/moved cannot be reached: `),
    );
    const closed = await serve(() => undefined);
    const server = servers.pop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await expect(call(`${closed}/x`)).rejects.toThrow(`${closed}/x cannot be reached: ECONNREFUSED`);
  });

  it('gives the caller its own abort reason', async () => {
    const url = await serve(() => undefined);
    const controller = new AbortController();
    const pending = callJson({ url, timeoutMs: 5_000, signal: controller.signal });
    controller.abort(new Error('stop now'));
    await expect(pending).rejects.toThrow('stop now');
  });
});

describe('describeUrl', () => {
  it('drops credentials, query and fragment', () => {
    expect(describeUrl('https://user:pw@host:8443/a/b?token=x#f')).toBe('https://host:8443/a/b');
    expect(describeUrl('not a url')).toBe('(a bad URL)');
  });
});
