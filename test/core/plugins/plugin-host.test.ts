import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActionRegistry, ActionsToken } from '../../../core/decide/actions/action-registry.js';
import { type FallbackHandlers, FallbacksToken } from '../../../core/decide/commands/fallbacks.js';
import { type Diagnostics, DiagnosticsToken } from '../../../core/diagnostics/diagnostics.js';
import { type EventBus, EventsToken } from '../../../core/events/event-bus.js';
import { type I18n, I18nToken } from '../../../core/i18n/i18n.js';
import type { StatusBoard } from '../../../core/observe/status.js';
import { StatusToken } from '../../../core/observe/status.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import type { Scheduler } from '../../../core/scheduler/scheduler.js';
import { SchedulerToken } from '../../../core/scheduler/scheduler.js';
import { createTestBot, type TestBot } from '../../helpers/test-bot.js';

let tb: TestBot | undefined;
afterEach(async () => {
  await tb?.stop();
  tb = undefined;
});

describe('plugin host', () => {
  it('sets plugins up in dependency order and disposes them in reverse', async () => {
    const order: string[] = [];
    const mk = (name: string, deps: string[] = [], after: string[] = []) =>
      definePlugin({
        name,
        dependsOn: deps,
        after,
        setup(ctx) {
          order.push(`setup ${name}`);
          ctx.onDispose(() => void order.push(`dispose ${name}`));
        },
      });
    tb = await createTestBot({
      plugins: [mk('c', ['b']), mk('b', ['a']), mk('a'), mk('d', [], ['c', 'missing'])],
    });
    expect(order).toEqual(['setup a', 'setup b', 'setup c', 'setup d']);
    await tb.stop();
    tb = undefined;
    expect(order.slice(4)).toEqual(['dispose d', 'dispose c', 'dispose b', 'dispose a']);
  });

  it('reports dependency cycles and missing dependencies', async () => {
    const a = definePlugin({ name: 'a', dependsOn: ['b'], setup() {} });
    const b = definePlugin({ name: 'b', dependsOn: ['a'], setup() {} });
    await expect(createTestBot({ plugins: [a, b] })).rejects.toThrow('plugin dependency cycle: a -> b -> a');
    await expect(createTestBot({ plugins: [a] })).rejects.toThrow(
      "plugin 'a' depends on 'b', which is not enabled",
    );
  });

  it('undoes a plugin that fails in setup and keeps the others running', async () => {
    const bad = definePlugin({
      name: 'bad',
      setup(ctx) {
        ctx.commands.register({ name: 'badcmd', description: 'x', handler: () => 'should not exist' });
        ctx.schedule('tick', '* * * * *', () => undefined);
        throw new Error('cannot reach the thing');
      },
    });
    const dependent = definePlugin({ name: 'dependent', dependsOn: ['bad'], setup() {} });
    const good = definePlugin({
      name: 'good',
      setup: (ctx) => ctx.commands.register({ name: 'goodcmd', description: 'x', handler: () => 'fine' }),
    });
    const yaml = 'plugins:\n  bad: {}\n  dependent: {}\n  good: {}\n';
    tb = await createTestBot({ plugins: [bad, dependent, good], yaml });
    expect(await tb.ask('goodcmd')).toBe('fine');
    expect(await tb.ask('badcmd')).toContain('Unknown command');
    expect(
      tb.bot
        .resolve<Scheduler>(SchedulerToken)
        .list()
        .filter((s) => s.owner === 'bad'),
    ).toEqual([]);
    expect(tb.logs.text).toContain('cannot reach the thing');
    const status = await tb.bot.resolve<StatusBoard>(StatusToken).collect();
    const plugins = status.find((s) => s.name === 'plugins')!;
    expect(plugins.ok).toBe(false);
    expect(plugins.detail).toContain('bad (failed: cannot reach the thing)');
    expect(plugins.detail).toContain("dependent (failed: dependency 'bad' is not running)");
    expect(await tb.ask('status')).toContain('bad (failed');
  });

  it('undoes every kind of registration of a plugin that fails, through the disposers its scope collected', async () => {
    const bad = definePlugin({
      name: 'leaky',
      i18n: { en: { hello: 'hi from leaky' } },
      setup(ctx) {
        ctx.commands.register({ name: 'leakycmd', description: 'x', handler: () => 'still here' });
        ctx.actions.register({ name: 'press', handler: () => ({ message: 'pressed' }) });
        ctx.events.on('lifecycle.ready', () => undefined);
        ctx.messages.fallback(async () => undefined);
        ctx.status('line', () => ({ name: 'leaky line', ok: false, detail: 'x', critical: true }));
        ctx.diagnostics.register({
          id: 'leaky.check',
          run: () => ({ id: 'leaky.check', level: 'ok', title: 'leaky', detail: '' }) as never,
        });
        ctx.plugins.provide('leaky.api' as never, { ok: true } as never);
        ctx.http.route({ method: 'GET', url: '/leaky', handler: () => ({ ok: true }) });
        ctx.schedule('tick', '* * * * *', () => undefined);
        throw new Error('half set up');
      },
    });
    tb = await createTestBot({ plugins: [bad], yaml: 'plugins:\n  leaky: {}\n' });
    const bot = tb.bot;
    expect(await tb.ask('leakycmd')).toContain('Unknown command');
    expect(bot.resolve<ActionRegistry>(ActionsToken).get('leaky.press')).toBeUndefined();
    expect(bot.resolve<EventBus>(EventsToken).listenerCount('lifecycle.ready')).toBe(0);
    expect(bot.resolve<FallbackHandlers>(FallbacksToken).size).toBe(0);
    const lines = await bot.resolve<StatusBoard>(StatusToken).collect();
    expect(lines.map((l) => l.name)).not.toContain('leaky line');
    const checks = await bot.resolve<Diagnostics>(DiagnosticsToken).run({ only: ['leaky'] });
    expect(checks).toEqual([]);
    expect(bot.resolve<I18n>(I18nToken).has('leaky.hello', 'en')).toBe(false);
    expect(
      bot
        .resolve<Scheduler>(SchedulerToken)
        .list()
        .filter((x) => x.owner === 'leaky'),
    ).toEqual([]);
    expect((await bot.http.inject({ url: '/leaky' })).statusCode).toBe(503);
    expect(bot.plugins.isRunning('leaky')).toBe(false);
  });

  it('stops the bot from starting when a required plugin fails', async () => {
    const bad = definePlugin({ name: 'bad', setup: () => Promise.reject(new Error('nope')) });
    await expect(
      createTestBot({ plugins: [bad], yaml: 'plugins:\n  bad:\n    required: true\n' }),
    ).rejects.toThrow("required plugin 'bad' failed to start: nope");
  });

  it('rejects a command name another plugin owns', async () => {
    const one = definePlugin({
      name: 'one',
      setup: (ctx) => ctx.commands.register({ name: 'dup', description: 'x', handler: () => '1' }),
    });
    const two = definePlugin({
      name: 'two',
      setup: (ctx) => ctx.commands.register({ name: 'dup', description: 'x', handler: () => '2' }),
    });
    tb = await createTestBot({ plugins: [one, two], yaml: 'plugins:\n  one: {}\n  two: {}\n' });
    expect(await tb.ask('dup')).toBe('1');
    expect(tb.logs.text).toContain("command 'dup' of two is already registered by one");
  });

  it('gives a plugin its validated config, kv store, namespaced i18n and people', async () => {
    let seen: unknown;
    const p = definePlugin({
      name: 'probe',
      config: z.strictObject({ n: z.number().default(3) }),
      i18n: { en: { hi: 'Hi {who}' }, 'zh-CN': { hi: '你好 {who}' } },
      async setup(ctx) {
        await ctx.store.kv.set('x', { ok: true });
        seen = {
          n: ctx.config.n,
          kv: await ctx.store.kv.get('x'),
          hi: ctx.t('hi', { who: 'bob' }),
          coreKey: ctx.t('builtin.ping.pong'),
          bob: ctx.people.find('13800000002')?.name,
          bobByName: ctx.people.find('bob')?.mobile,
          self: ctx.plugins.isRunning('probe'),
        };
      },
    });
    tb = await createTestBot({
      plugins: [p],
      yaml: 'people:\n  - { name: Bob, mobile: "138-0000-0002" }\nplugins:\n  probe:\n    n: 7\n',
    });
    expect(seen).toEqual({
      n: 7,
      kv: { ok: true },
      hi: 'Hi bob',
      coreKey: 'pong',
      bob: 'Bob',
      bobByName: '138-0000-0002',
      self: false,
    });
  });

  it('lets plugins offer each other APIs under their own name, withdrawn when the provider stops', async () => {
    const seen: unknown[] = [];
    let useLater: (() => unknown) | undefined;
    const provider = definePlugin({
      name: 'clock',
      setup(ctx) {
        (ctx.plugins.provide as (k: string, api: unknown) => void)('clock.time', { now: () => 42 });
        expect(() => (ctx.plugins.provide as (k: string, api: unknown) => void)('other.time', {})).toThrow(
          "plugin 'clock' may only provide its own services ('clock.*'), not 'other.time'",
        );
        expect(() => (ctx.plugins.provide as (k: string, api: unknown) => void)('clock.time', {})).toThrow(
          "service 'clock.time' is already provided by plugin 'clock'",
        );
      },
    });
    const consumer = definePlugin({
      name: 'reader',
      dependsOn: ['clock'],
      setup(ctx) {
        const use = ctx.plugins.use as (k: string) => { now(): number } | undefined;
        seen.push(use('clock.time')?.now(), use('nobody.here'));
        useLater = () => use('clock.time');
      },
    });
    tb = await createTestBot({ plugins: [provider, consumer] });
    expect(seen).toEqual([42, undefined]);
    expect(useLater?.()).toBeDefined();
    await tb.stop();
    tb = undefined;
    expect(useLater?.()).toBeUndefined();
  });

  it('lets a plugin emit only its own events', async () => {
    const got: unknown[] = [];
    const p = definePlugin({
      name: 'ev',
      async setup(ctx) {
        ctx.events.on('ev.thing' as never, (x: unknown) => void got.push(x));
        await ctx.events.emit('ev.thing' as never, { a: 1 } as never);
        await expect(ctx.events.emit('lifecycle.ready', { startedAt: 0 })).rejects.toThrow(
          "may only emit its own events ('ev.*')",
        );
      },
    });
    tb = await createTestBot({ plugins: [p] });
    expect(got).toEqual([{ a: 1 }]);
  });

  it('isolates a throwing event listener from the others', async () => {
    const got: string[] = [];
    const p = definePlugin({
      name: 'ls',
      setup(ctx) {
        ctx.events.on('message.received', () => {
          throw new Error('listener broke');
        });
        ctx.events.on('message.received', (m) => void got.push(m.text));
      },
    });
    tb = await createTestBot({ plugins: [p] });
    expect(await tb.ask('ping')).toBe('pong');
    expect(got).toEqual(['ping']);
    expect(tb.logs.text).toContain('listener broke');
  });

  it('loads a mounted TypeScript plugin file by path, with its config', async () => {
    tb = await createTestBot({
      yaml: 'plugins:\n  mounted:\n    from: ./test/fixtures/plugins/mounted\n    word: from-config\n',
    });
    expect(await tb.ask('mounted')).toBe('from-config');
  });

  it('stops schedules and disables routes of stopped plugins', async () => {
    const p = definePlugin({
      name: 'sched',
      setup(ctx) {
        ctx.schedule('every-minute', '* * * * *', () => undefined);
        ctx.http.route({ method: 'GET', url: '/sched/ping', handler: () => ({ ok: true }) });
      },
    });
    tb = await createTestBot({ plugins: [p] });
    const scheduler = tb.bot.resolve<Scheduler>(SchedulerToken);
    expect(
      scheduler
        .list()
        .filter((s) => s.owner === 'sched')
        .map((s) => s.name),
    ).toEqual(['sched:every-minute']);
    expect((await tb.bot.http.inject({ url: '/sched/ping' })).json()).toEqual({ ok: true });
    await tb.bot.plugins.stopAll();
    expect(scheduler.list().filter((s) => s.owner === 'sched')).toEqual([]);
    expect((await tb.bot.http.inject({ url: '/sched/ping' })).statusCode).toBe(503);
  });
});

describe('plugins from npm packages', () => {
  it('loads a plugin by package name, resolved from the config file’s folder', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'dingops-pkg-'));
    const pkg = join(dir, 'node_modules', 'dingops-plugin-greet');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'dingops-plugin-greet', version: '1.0.0', main: 'index.js' }),
    );
    writeFileSync(
      join(pkg, 'index.js'),
      "module.exports = { name: 'greet', config: (z) => z.strictObject({ word: z.string() }), setup(ctx) { ctx.commands.register({ name: 'greet', description: 'greet', handler: () => ctx.config.word }); } };",
    );
    writeFileSync(
      join(dir, 'bot.config.yaml'),
      'plugins:\n  greet:\n    from: dingops-plugin-greet\n    word: from-npm\n',
    );
    tb = await createTestBot({ file: join(dir, 'bot.config.yaml') });
    expect(await tb.ask('greet')).toBe('from-npm');
  });
});

describe('the plugin API contract', () => {
  it('refuses a plugin built for another dingops major, naming both versions; accepts a matching one', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { importPlugin } = await import('../../../core/plugins/plugin-resolver.js');
    const { packageInfo } = await import('../../../core/config/version.js');
    const dir = mkdtempSync(join(tmpdir(), 'dingops-api-'));
    const make = (name: string, api: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'package.json'), JSON.stringify({ name, dingops: { api } }));
      writeFileSync(join(dir, name, 'index.mjs'), `export default { name: '${name}', setup() {} };\n`);
    };
    make('old', '^9.0.0');
    make('fits', `^${packageInfo().version}`);
    // A module that would announce itself on import: refused before it runs.
    writeFileSync(
      join(dir, 'old', 'index.mjs'),
      `globalThis.__oldPluginRan = true;\nexport default { name: 'old', setup() {} };\n`,
    );
    // The same package installed under node_modules, with `exports` that leave out package.json.
    const installed = join(dir, 'node_modules', 'dingops-plugin-old');
    mkdirSync(installed, { recursive: true });
    writeFileSync(
      join(installed, 'package.json'),
      JSON.stringify({
        name: 'dingops-plugin-old',
        exports: { '.': './index.mjs' },
        dingops: { api: '^9.0.0' },
      }),
    );
    writeFileSync(
      join(installed, 'index.mjs'),
      `globalThis.__oldPluginRan = true;\nexport default { name: 'old', setup() {} };\n`,
    );
    await expect(importPlugin('old', 'dingops-plugin-old', dir)).rejects.toThrow(
      /was built for dingops \^9\.0\.0/,
    );
    await expect(importPlugin('old', './old', dir)).rejects.toThrow(
      new RegExp(
        `plugin 'old' was built for dingops \\^9\\.0\\.0, and this is dingops ${packageInfo().version.replace(/\./g, '\\.')}`,
      ),
    );
    expect((globalThis as { __oldPluginRan?: boolean }).__oldPluginRan).toBeUndefined();
    expect((await importPlugin('fits', './fits', dir)).name).toBe('fits');
  });
});

describe('the built-in commands are a plugin', () => {
  it('can turn single commands off, and another plugin may then provide its own of that name', async () => {
    const { definePlugin } = await import('../../../core/plugins/define-plugin.js');
    const { createTestBot } = await import('../../helpers/test-bot.js');
    const myPing = definePlugin({
      name: 'myping',
      setup: (ctx) => ctx.commands.register({ name: 'ping', description: 'ping', handler: () => 'my pong' }),
    });
    const tb = await createTestBot({
      plugins: [myPing],
      yaml: 'access:\n  admins: [alice]\nplugins:\n  core:\n    disable: [ping, audit]\n  myping: {}\n',
    });
    try {
      expect(await tb.ask('ping')).toBe('my pong');
      expect(await tb.ask('audit')).toMatch(/Unknown command `audit`/);
      expect(await tb.ask('whoami')).toContain('alice');
    } finally {
      await tb.stop();
    }
  });
});
