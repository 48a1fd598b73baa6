// A small HTTP app for the Plumbline demo and tests: answers with its greeting and revision, has /healthz,
// and exits cleanly on SIGTERM after finishing in-flight requests.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const greeting = process.env.GREETING ?? 'hello';
const fail = process.env.FAIL === '1';
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (fail) {
    // FAIL=1 in the commit makes a bad revision: healthy, but every answer a 500 (for the rollback demo).
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`${greeting} failed\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`${greeting} from pid ${process.pid}\n`);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${port} with greeting ${greeting}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
});
