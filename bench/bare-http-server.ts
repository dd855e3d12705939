/**
 * The REST baseline: a bare node:http server that answers every GET with a fixed JSON body of a
 * given size, as fast as Node can. RefundKit's REST throughput is measured against this.
 *
 * Usage: node bare-http-server.js ROUTE=BYTES... (ROUTE is a path prefix; the longest match wins).
 * It prints "listening PORT" on stdout once it accepts connections.
 */
import { createServer } from 'node:http';

function bodyOfSize(bytes: number): Buffer {
  const shell = '{"data":""}';
  return Buffer.from(`{"data":"${'x'.repeat(Math.max(0, bytes - shell.length))}"}`);
}

const routes = process.argv
  .slice(2)
  .map((arg) => {
    const at = arg.lastIndexOf('=');
    return { prefix: arg.slice(0, at), body: bodyOfSize(Number(arg.slice(at + 1))) };
  })
  .sort((a, b) => b.prefix.length - a.prefix.length);
const fallback = bodyOfSize(64);

const server = createServer((request, response) => {
  const url = request.url ?? '/';
  const body = routes.find((route) => url.startsWith(route.prefix))?.body ?? fallback;
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
