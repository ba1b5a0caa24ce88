import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { createTestBot, type TestBot } from '../../helpers/test-bot.js';

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

describe('HTTP server', () => {
  it('answers /healthz and /readyz with the store check', async () => {
    tb = await createTestBot();
    expect((await tb.bot.http.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await tb.bot.http.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.find((c: { name: string }) => c.name === 'store')).toMatchObject({
      ok: true,
      critical: true,
    });
  });

  it('serves Prometheus metrics that count commands', async () => {
    tb = await createTestBot();
    await tb.ask('ping');
    await tb.ask('pnig');
    const res = await tb.bot.http.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('dingops_commands_total{command="ping",outcome="ok"} 1');
    expect(res.body).toContain('dingops_commands_total{command="(unknown)",outcome="unknown"} 1');
    expect(res.body).toMatch(/dingops_command_duration_seconds_count\{command="ping"\} 1/);
  });

  it('enforces body limits, rejects bad JSON, and keeps raw bodies for signature routes', async () => {
    tb = await createTestBot({ plugins: [hook] });
    const app = tb.bot.http.app;
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
    const res = await tb.bot.http.app.inject({ url: '/fail' });
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
});
