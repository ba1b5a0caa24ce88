import { afterEach, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../../../core/decide/audit-log.js';
import { AuditToken } from '../../../../core/decide/audit-log.js';
import { UserError } from '../../../../core/decide/commands/user-error.js';
import { definePlugin } from '../../../../core/plugins/define-plugin.js';
import { createTestBot, type TestBot } from '../../../helpers/test-bot.js';

const ops = definePlugin({
  name: 'ops',
  setup(ctx) {
    ctx.commands.register({
      name: 'deploy',
      description: 'Deploy a service',
      roles: ['oncall'],
      args: [
        { name: 'service', type: 'string', pattern: /[a-z][a-z0-9-]*/ },
        { name: 'version', type: 'string' },
      ],
      options: [
        { name: 'note', type: 'string' },
        { name: 'canary', type: 'int', min: 1, max: 100, default: 10 },
        { name: 'token', type: 'string', secret: true },
      ],
      handler: ({ args }) =>
        `deploying ${args.service}@${args.version} canary=${args.canary} note=${args.note ?? '-'}`,
    });
    ctx.commands.register({
      name: 'db',
      description: 'Database tools',
      subcommands: [
        {
          name: 'wipe',
          description: 'Wipe a table',
          args: [{ name: 'table', type: 'string' }],
          confirm: true,
          sideEffects: true,
          handler: ({ args }) => `wiped ${args.table}`,
        },
        { name: 'status', description: 'Show status', handler: () => 'db ok' },
      ],
    });
    ctx.commands.register({
      name: 'dmonly',
      description: 'secret stuff',
      allowIn: ['direct'],
      handler: () => 'ok',
    });
    ctx.commands.register({
      name: 'boom',
      description: 'fails',
      handler: () => {
        throw new Error('kaboom at db host 10.0.0.1');
      },
    });
    ctx.commands.register({
      name: 'nope',
      description: 'user error',
      handler: () => {
        throw new UserError('pipeline.confirmExpired');
      },
    });
  },
});

let tb: TestBot;
afterEach(async () => tb?.stop());

async function audit(tb: TestBot) {
  return tb.bot.resolve<AuditLog>(AuditToken).query({ limit: 50 });
}

describe('command pipeline', () => {
  it('answers ping in a DM and in a group', async () => {
    tb = await createTestBot();
    expect(await tb.ask('ping')).toBe('pong');
    const replies = await tb.say('ping', { group: 'cid-ops', user: 'bob' });
    expect(replies[0]!.to).toMatchObject({ kind: 'reply' });
    expect(replies[0]!.conversationId).toBe('cid-ops');
  });

  it('parses what a phone types: full-width, CJK quotes, em dash', async () => {
    tb = await createTestBot({ plugins: [ops] });
    const out = await tb.ask('ｄｅｐｌｏｙ api v1.2 ——note “hot fix” －－canary ５', { user: 'bob' });
    expect(out).toBe('deploying api@v1.2 canary=5 note=hot fix');
  });

  it('suggests commands the user may run for a typo', async () => {
    tb = await createTestBot({ plugins: [ops] });
    expect(await tb.ask('pnig')).toContain('`ping`');
    // carol has no oncall role: `deploy` is not suggested to her.
    expect(await tb.ask('deplyo', { user: 'carol' })).not.toContain('deploy');
    expect(await tb.ask('deplyo', { user: 'bob' })).toContain('`deploy`');
  });

  it('explains bad arguments with the usage line', async () => {
    tb = await createTestBot({ plugins: [ops] });
    const out = await tb.ask('deploy api v1 --canary 500', { user: 'bob' });
    expect(out).toContain('`canary` must be between 1 and 100, not `500`');
    expect(out).toContain('deploy <service> <version> [--note <note>] [--canary <canary>] [--token <token>]');
    expect(await tb.ask('deploy "api', { user: 'bob' })).toContain('never closed');
  });

  it('denies without the role, explains, logs and audits', async () => {
    tb = await createTestBot({ plugins: [ops] });
    const out = await tb.ask('deploy api v1', { user: 'carol' });
    expect(out).toContain('not allowed to run `deploy`');
    expect(out).toContain('oncall');
    expect(tb.logs.text).toMatch(/permission denied/);
    const entries = await audit(tb);
    expect(entries[0]).toMatchObject({
      actorId: 'carol',
      command: 'deploy',
      outcome: 'denied',
      detail: 'role',
    });
  });

  it('keeps direct-only commands out of groups, even for admins', async () => {
    tb = await createTestBot({ plugins: [ops] });
    expect(await tb.ask('dmonly', { group: 'cid-ops' })).toContain('only works in a direct message');
    expect(await tb.ask('dmonly')).toBe('ok');
  });

  it('audits args with secrets masked', async () => {
    tb = await createTestBot({ plugins: [ops] });
    await tb.ask('deploy api v1 --token s3cr3t-value', { user: 'bob' });
    const [entry] = await audit(tb);
    expect(entry).toMatchObject({
      command: 'deploy',
      outcome: 'ok',
      text: 'deploy api v1 --token ***',
    });
    expect(JSON.stringify(entry)).not.toContain('s3cr3t-value');
  });

  it('removes registered secrets and token URLs from the audited text', async () => {
    tb = await createTestBot({
      plugins: [ops],
      yaml: 'dingtalk:\n  clientId: app\n  clientSecret: ${APP_SECRET}\naccess:\n  admins: [alice]\n',
      env: { APP_SECRET: 'the-app-secret-42' },
    });
    await tb.ask('deploy api v1 --note "oops the-app-secret-42 https://h/x?access_token=abcdef0123"');
    const [entry] = await audit(tb);
    expect(entry!.text).toBe('deploy api v1 --note "oops *** https://h/x?access_token=***"');
  });

  it('shows help filtered by permission, and per-command help', async () => {
    tb = await createTestBot({ plugins: [ops] });
    const carolHelp = await tb.ask('help', { user: 'carol' });
    expect(carolHelp).toContain('`ping`');
    expect(carolHelp).not.toContain('`deploy`');
    expect(carolHelp).not.toContain('`audit`');
    expect(await tb.ask('help', { user: 'alice' })).toContain('`audit`');
    const deployHelp = await tb.ask('deploy --help', { user: 'bob' });
    expect(deployHelp).toContain('deploy <service> <version>');
    expect(await tb.ask('help db', { user: 'bob' })).toContain('db wipe');
  });

  it('lists subcommands and suggests for an unknown one', async () => {
    tb = await createTestBot({ plugins: [ops] });
    expect(await tb.ask('db')).toContain('db status');
    const out = await tb.ask('db stauts');
    expect(out).toContain('no subcommand `stauts`');
    expect(out).toContain('`db status`');
  });

  it('asks for confirmation, then runs once on the button of the same user', async () => {
    tb = await createTestBot({ plugins: [ops] });
    const [ask] = await tb.say('db wipe users');
    const button = (
      ask!.content as { buttons: Array<{ action: { id: string; params: Record<string, string> } }> }
    ).buttons[0]!;
    expect(button.action.id).toBe('core.confirm');
    expect(await tb.click('card', { action: 'core.confirm', ...button.action.params }, 'bob')).toMatchObject({
      message: expect.stringContaining('Only the person'),
    });
    const before = tb.messenger.sent.length;
    await tb.click('card', { action: 'core.confirm', ...button.action.params }, 'alice');
    expect(tb.messenger.sent.slice(before).map((d) => d.rendered.plain)).toEqual(['wiped users']);
    expect(
      await tb.click('card', { action: 'core.confirm', ...button.action.params }, 'alice'),
    ).toMatchObject({ message: expect.stringContaining('expired') });
    expect(await tb.ask('db wipe users --yes')).toBe('wiped users');
  });

  it('hides internal errors from users behind a reference, with details in the log', async () => {
    tb = await createTestBot({ plugins: [ops] });
    const out = await tb.ask('boom');
    const ref = /ref ([0-9a-f]{8})/.exec(out)?.[1];
    expect(ref).toBeDefined();
    expect(out).not.toContain('10.0.0.1');
    expect(tb.logs.text).toContain(ref);
    expect(tb.logs.text).toContain('kaboom');
  });

  it('shows UserError text to the user', async () => {
    tb = await createTestBot({ plugins: [ops] });
    expect(await tb.ask('nope')).toContain('expired');
  });

  it('answers empty and non-text messages with a hint', async () => {
    tb = await createTestBot();
    expect(await tb.ask('   ')).toContain('help');
  });

  it('applies per-conversation allow lists and per-command rules from config', async () => {
    tb = await createTestBot({
      plugins: [ops],
      yaml: `access:
  admins: [alice]
  roles: { oncall: [bob] }
  commands:
    deploy: { users: [carol] }
  conversations:
    cid-quiet: { allow: [help, ping] }
`,
    });
    expect(await tb.ask('deploy api v1', { user: 'carol' })).toContain('deploying');
    // The config rule replaces the command's own roles: bob (oncall) is no longer enough.
    expect(await tb.ask('deploy api v1', { user: 'bob' })).toContain('not allowed');
    expect(await tb.ask('whoami', { group: 'cid-quiet' })).toContain('not allowed in this conversation');
    expect(await tb.ask('ping', { group: 'cid-quiet' })).toBe('pong');
  });

  it('whoami shows ids and roles', async () => {
    tb = await createTestBot();
    const out = await tb.ask('whoami', { user: 'bob' });
    expect(out).toContain('userId: bob');
    expect(out).toContain('Roles: oncall');
  });

  it('audit command lists recent entries for admins only', async () => {
    tb = await createTestBot();
    await tb.ask('ping', { user: 'bob' });
    expect(await tb.ask('audit', { user: 'bob' })).toContain('not allowed');
    const out = await tb.ask('audit --user bob', { user: 'alice' });
    expect(out).toContain('**bob** `ping` → ok');
    // bob's own denied attempt is on the record too.
    expect(out).toContain('**bob** `audit` → denied (role)');
  });
});

describe('card action permissions', () => {
  const restricted = definePlugin({
    name: 'gate',
    setup(ctx) {
      ctx.actions.register({ name: 'open', roles: ['oncall'], handler: () => ({ message: 'opened' }) });
      ctx.actions.register({ name: 'ack', command: 'ack', handler: () => ({ message: 'acked' }) });
      ctx.commands.register({
        name: 'ack',
        description: 'ack',
        roles: ['oncall'],
        handler: () => 'acked by command',
      });
    },
  });

  it('runs the same check for buttons as for commands, explains and audits a denial', async () => {
    tb = await createTestBot({ plugins: [restricted] });
    expect(await tb.click('card-1', { action: 'gate.open' }, 'carol', 'cid-ops')).toEqual({
      message: expect.stringContaining('not allowed'),
    });
    expect(await tb.click('card-1', { action: 'gate.open' }, 'bob', 'cid-ops')).toEqual({
      message: 'opened',
    });
    const [entry] = await audit(tb);
    expect(entry).toMatchObject({ kind: 'action', actorId: 'bob', command: 'gate.open', outcome: 'ok' });
    const denied = (await audit(tb)).find((e) => e.actorId === 'carol');
    expect(denied).toMatchObject({ kind: 'action', outcome: 'denied', detail: 'role' });
    expect(await tb.click('card-1', { action: 'nobody.home' }, 'bob')).toEqual({
      message: expect.stringContaining('no longer handled'),
    });
  });

  it('applies config rules of the command a button stands for', async () => {
    tb = await createTestBot({
      plugins: [restricted],
      yaml: 'access:\n  admins: [alice]\n  roles: { oncall: [bob] }\n  commands:\n    ack: { users: [carol] }\n',
    });
    expect(await tb.click('c', { action: 'gate.ack' }, 'carol', 'cid-ops')).toEqual({ message: 'acked' });
    expect(await tb.click('c', { action: 'gate.ack' }, 'bob', 'cid-ops')).toEqual({
      message: expect.stringContaining('not allowed'),
    });
  });
});
