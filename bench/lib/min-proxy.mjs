#!/usr/bin/env node
// The router benchmark's reference: the smallest useful reverse proxy on Node's http module (keep-alive agent,
// headers passed as they are, bodies piped), `node bench/lib/min-proxy.mjs PORT BACKEND_PORT`, on 127.0.0.1.
// Not a proxy to use (no hop-by-hop filtering, no retries, no metrics): a floor for what Node's HTTP stack
// itself costs, so the router's own share of its latency and CPU can be told apart.
import { Agent, createServer, request } from 'node:http';

const [port, backend] = process.argv.slice(2).map(Number);
const agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
createServer((req, res) => {
  const upstream = request(
    { host: '127.0.0.1', port: backend, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
