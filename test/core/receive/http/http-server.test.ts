import { connect } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../../../core/observe/metrics.js';
import { StatusBoard } from '../../../../core/observe/status.js';
import { definePlugin } from '../../../../core/plugins/define-plugin.js';
import { HttpServer } from '../../../../core/receive/http/http-server.js';
import { createTestBot, type TestBot } from '../../../helpers/test-bot.js';

let tb: TestBot;
afterEach(async () => tb?.stop());

const hook = definePlugin({
  name: 'hook',
  setup(ctx) {
    ctx.http.route({ method: 'POST', url: '/hook', bodyLimit: 100, handler: (req) => ({ got: req.body }) });
    ctx.http.route({
      method: 'POST',
      url: '/raw',
      rawBody: true,
      handler: (req) => ({ type: typeof req.body, body: req.body }),
    });
    ctx.http.route({
      method: 'GET',
      url: '/fail',
      handler: () => {
        throw new Error('database password is hunter2');
      },
    });
  },
});

/** A server alone, without a bot: its own routing, limits and closing. */
const bareServer = (bodyLimit: number) =>
  new HttpServer(
    { host: '127.0.0.1', port: 0, bodyLimit, requestTimeoutMs: 5_000 },
    pino({ level: 'silent' }),
    new Metrics({ defaultMetrics: false }),
    new StatusBoard(),
  );

describe('HTTP server', () => {
  it('answers what no route takes: 404 for an unknown path, 405 with Allow for another method, 415 for a body it cannot read', async () => {
    const server = bareServer(1_000);
    server.route('test', {
      method: 'POST',
      url: '/echo',
      handler: (req) => ({ body: req.body, query: req.query, ip: req.ip }),
    });
    server.route('test', { method: 'GET', url: '/echo', handler: () => 'hello' });
    const missing = await server.inject({ method: 'GET', url: '/nowhere' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toContain('/nowhere');
    const wrong = await server.inject({ method: 'PUT', url: '/echo' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('POST, GET, HEAD');
    const form = await server.inject({
      method: 'POST',
      url: '/echo',
      payload: 'a=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
    // JSON and text bodies, repeated query parameters as a list, the peer's address.
    const json = await server.inject({ method: 'POST', url: '/echo?x=1&x=2&y=3', payload: { a: [1] } });
    expect(json.json()).toEqual({ body: { a: [1] }, query: { x: ['1', '2'], y: '3' }, ip: '127.0.0.1' });
    const text = await server.inject({
      method: 'POST',
      url: '/echo',
      payload: 'plain words',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    expect(text.json().body).toBe('plain words');
    // A string is sent as text; HEAD gets GET's headers and no body.
    const get = await server.inject({ method: 'GET', url: '/echo' });
    expect(get.headers['content-type']).toContain('text/plain');
    expect(get.body).toBe('hello');
    const head = await server.inject({ method: 'HEAD', url: '/echo' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('5');
    expect(head.body).toBe('');
  });

  it('refuses a body over the limit without reading it, and answers 503 once closing while in-flight requests finish', async () => {
    const server = bareServer(100);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.route('test', { method: 'POST', url: '/in', handler: (req) => ({ got: req.body }) });
    server.route('test', {
      method: 'GET',
      url: '/slow',
      handler: async () => {
        await held;
        return { done: true };
      },
    });
    const base = await server.listen();
    try {
      // Declared too large: refused before a byte of the body is read.
      const big = await fetch(`${base}/in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ a: 'x'.repeat(500) }),
      });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: string }).error).toContain('larger than 100 bytes');
      // Sent in chunks with no declared length: refused once what arrived passes the limit.
      const chunks = new ReadableStream({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('"xxxxxxxxxxxxxxxxxxxx"'));
          c.close();
        },
      });
      const chunked = await fetch(`${base}/in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunks,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      const slow = fetch(`${base}/slow`).then((r) => r.json());
      await new Promise((r) => setTimeout(r, 50));
      const closed = server.close();
      // A request that was already in the handler when the server began closing finishes.
      release();
      expect(await slow).toEqual({ done: true });
      await closed;
      await expect(fetch(`${base}/slow`)).rejects.toThrow();
      // Closing first, a request without a socket is answered 503.
      expect((await server.inject({ url: '/healthz' })).statusCode).toBe(503);
    } finally {
      release();
      await server.close();
    }
  });

  it('answers /healthz and /readyz with the store check', async () => {
    tb = await createTestBot();
    expect((await tb.bot.http.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await tb.bot.http.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.find((c: { name: string }) => c.name === 'store')).toMatchObject({
      ok: true,
      critical: true,
    });
  });

  it('gives another host only what a probe needs, and the full status and metrics with server.statusToken', async () => {
    const token = 'status-token-0123456789';
    tb = await createTestBot({ yaml: `server:\n  statusToken: ${token}\n` });
    const outside = { remoteAddress: '10.1.2.3' };
    const ready = await tb.bot.http.inject({ url: '/readyz', ...outside });
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready' }]);
    const metrics = await tb.bot.http.inject({ url: '/metrics', ...outside });
    expect(metrics.statusCode).toBe(401);
    expect(metrics.json().error).toMatch(/Authorization: Bearer <server.statusToken>/);
    // A proxy on this host forwards outside clients: they stay outside.
    const proxied = await tb.bot.http.inject({
      url: '/readyz',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(proxied.json()).toEqual({ status: 'ready' });
    expect(
      (await tb.bot.http.inject({ url: '/metrics', headers: { forwarded: 'for=203.0.113.9' } })).statusCode,
    ).toBe(401);
    const wrong = await tb.bot.http.inject({
      url: '/metrics',
      ...outside,
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
    // With the token (Prometheus' `authorization` in its scrape config), everything.
    const auth = { authorization: `Bearer ${token}` };
    const full = await tb.bot.http.inject({ url: '/readyz', ...outside, headers: auth });
    expect(full.json().checks.length).toBeGreaterThan(0);
    const scraped = await tb.bot.http.inject({ url: '/metrics', ...outside, headers: auth });
    expect([scraped.statusCode, scraped.body]).toEqual([200, expect.stringContaining('dingops_')]);
    // This host directly (the container's HEALTHCHECK, curl on the machine): everything.
    expect((await tb.bot.http.inject({ url: '/readyz' })).json().checks.length).toBeGreaterThan(0);
    expect(tb.logs.text).not.toContain(token);
  });

  it('serves Prometheus metrics that count commands', async () => {
    tb = await createTestBot();
    await tb.ask('ping');
    await tb.ask('pnig');
    const res = await tb.bot.http.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('dingops_commands_total{command="ping",outcome="ok"} 1');
    expect(res.body).toContain('dingops_commands_total{command="(unknown)",outcome="unknown"} 1');
    expect(res.body).toMatch(/dingops_command_duration_seconds_count\{command="ping"\} 1/);
  });

  it('enforces body limits, rejects bad JSON, and keeps raw bodies for signature routes', async () => {
    tb = await createTestBot({ plugins: [hook] });
    const app = tb.bot.http;
    expect((await app.inject({ method: 'POST', url: '/hook', payload: { a: 1 } })).json()).toEqual({
      got: { a: 1 },
    });
    expect(
      (await app.inject({ method: 'POST', url: '/hook', payload: { a: 'x'.repeat(200) } })).statusCode,
    ).toBe(413);
    const bad = await app.inject({
      method: 'POST',
      url: '/hook',
      payload: '{nope',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain('not valid JSON');
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/raw',
          payload: '{"a": 1}',
          headers: { 'content-type': 'application/json' },
        })
      ).json(),
    ).toEqual({ type: 'string', body: '{"a": 1}' });
  });

  it('hides handler errors from callers and logs them', async () => {
    tb = await createTestBot({
      plugins: [hook],
      env: { DB_PASSWORD: 'hunter2' },
      yaml: 'storage:\n  url: ${DINGOPS_STORAGE_URL}\nplugins:\n  hook:\n    {}\n',
    });
    const res = await tb.bot.http.inject({ url: '/fail' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(tb.logs.text).toContain('http handler failed');
  });

  it('refuses plugin routes on reserved paths and duplicates', async () => {
    const bad = definePlugin({
      name: 'bad',
      setup: (ctx) => ctx.http.route({ method: 'GET', url: '/metrics', handler: () => 1 }),
    });
    tb = await createTestBot({ plugins: [bad], yaml: 'plugins:\n  bad: {}\n' });
    expect(tb.logs.text).toContain('/metrics is reserved');
  });

  it('ends a request whose body trickles in past the request timeout, and logs a flood of them as a count', async () => {
    tb = await createTestBot({
      plugins: [hook],
      yaml: 'server:\n  port: 0\n  requestTimeoutMs: 500\nplugins:\n  hook: {}\n',
      bot: { listen: true },
    });
    const port = Number(new URL(tb.bot.http.url!).port);
    // The server's start is logged once.
    expect(tb.logs.lines.filter((l) => l.includes('http server listening')).length).toBe(1);
    const started = Date.now();
    // One byte every 100 ms: never idle, never done. Node checked the limit only every 30 s.
    const closedAfter = await new Promise<number>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 90\r\n\r\n{',
        );
        const drip = setInterval(() => socket.write(' '), 100);
        socket.on('close', () => {
          clearInterval(drip);
          resolve(Date.now() - started);
        });
      });
      socket.on('error', () => undefined);
    });
    expect(closedAfter).toBeLessThan(5_000);
    // 200 requests aborted mid-body: a bounded number of log lines, the rest counted.
    for (let i = 0; i < 200; i++)
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            'POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 90\r\n\r\n{"a"',
          );
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 1);
        });
        socket.on('error', () => resolve());
      });
    await new Promise((r) => setTimeout(r, 200));
    const warned = tb.logs.lines.filter((l) => l.includes('http request rejected')).length;
    expect(warned).toBeGreaterThan(0);
    expect(warned).toBeLessThanOrEqual(20);
    const metrics = (await tb.bot.http.inject({ url: '/metrics' })).body;
    const suppressed = Number(
      /dingops_log_suppressed_total\{kind="http.rejected"\} (\d+)/.exec(metrics)?.[1],
    );
    expect(warned + suppressed).toBeGreaterThanOrEqual(150);
  });
});
