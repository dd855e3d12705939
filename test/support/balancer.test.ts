/**
 * The test balancer itself: round robin over its upstreams, bodies passed both ways, and a refused
 * connection (a dead process) passed over to the next upstream, never a request resent once sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startBalancer, type Balancer } from './balancer.js';
import { raw } from './http-server.js';

const servers: Server[] = [];
const balancers: Balancer[] = [];

afterEach(async () => {
  await Promise.all(balancers.splice(0).map((b) => b.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An upstream that answers its name and the body it read. */
async function upstream(name: string): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.writeHead(200, { 'x-upstream': name }).end(`${name}:${req.method ?? ''}:${Buffer.concat(chunks).toString()}`));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on: a process that died. */
async function deadUpstream(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise((resolve) => server.close(resolve));
  return url;
}

describe('the test balancer', () => {
  it('sends each request to the next upstream in turn, with its body, and counts them', async () => {
    const balancer = await startBalancer([await upstream('a'), await upstream('b'), await upstream('c')]);
    balancers.push(balancer);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await raw(`${balancer.url}/x`, { method: 'POST', body: `n${i}` })).text);
    expect(answers).toEqual(['a:POST:n0', 'b:POST:n1', 'c:POST:n2', 'a:POST:n3', 'b:POST:n4', 'c:POST:n5']);
    expect(balancer.counts()).toEqual([2, 2, 2]);
    expect(balancer.sequence()).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('passes a refused upstream over to the next, and counts nothing for it', async () => {
    const balancer = await startBalancer([await upstream('a'), await deadUpstream()]);
    balancers.push(balancer);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push((await raw(`${balancer.url}/`, { method: 'POST', body: `n${i}` })).text);
    expect(answers).toEqual(['a:POST:n0', 'a:POST:n1', 'a:POST:n2', 'a:POST:n3']);
    expect(balancer.counts()).toEqual([4, 0]);
  });

  it('answers 502 when no upstream can be reached', async () => {
    const balancer = await startBalancer([await deadUpstream(), await deadUpstream()]);
    balancers.push(balancer);
    expect((await raw(`${balancer.url}/`)).status).toBe(502);
  });
});
