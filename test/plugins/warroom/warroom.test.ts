import { afterEach, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../../core/decide/audit-log.js';
import { AuditToken } from '../../../core/decide/audit-log.js';
import type { SimBot } from '../../helpers/sim-bot.js';
import { botSaid, incident, room, sceneGroups, warroomBot } from './helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const NOT_INVITED =
  /Not invited: Dave \(nobody in the organisation has mobile 13900000009\); Erin \(no mobile or userId in `people`\)/;

describe('opening a war room', () => {
  it('opens from the incident card: template, title, owner, responders by mobile, links back', async () => {
    sb = await warroomBot();
    const alertCard = await incident(sb);
    const open = alertCard.buttons.find((b) => b.text === 'Open war room');
    expect(open?.params).toEqual({ action: 'warroom.open', incident: '1' });
    await sb.sim.client.as('alice').click(alertCard, open!.params!);
    const answer = await sb.sim.client.until(() => botSaid(sb!, 'ops', /is open with/), 3000, 'the answer');
    expect(answer.content).toContain('War room **#1 HighLatency is high** is open with 3 members.');
    expect(answer.content).toMatch(NOT_INVITED);

    const g = await room(sb);
    expect(g.title).toBe('#1 HighLatency is high');
    expect(g.templateId).toBe('warroom-template');
    expect(g.ownerUserId).toBe('alice');
    // Bob from the route (found by his mobile), Carol from on-call; Dave and Erin reported above.
    expect([...g.members].sort()).toEqual(['alice', 'bob', 'carol']);
    expect(g.robotCode).toBe('dingops-warroom');
    const summary = await sb.sim.client.until(
      () => sb!.sim.client.botMessages(g.openConversationId).find((m) => m.kind === 'card'),
      3000,
      'the summary card',
    );
    expect(summary.title).toBe('War room · #1 HighLatency is high');
    expect(summary.content).toContain('Triggered');
    expect(botSaid(sb, g.openConversationId, NOT_INVITED)).toBeDefined();

    // The original alert card names the room and links to it.
    const updated = await sb.sim.client.until(
      () => {
        const c = sb!.sim.client.card(alertCard.cardId!);
        return (
          c.content.includes('#1 HighLatency') && c.buttons.some((b) => b.text === 'Go to the war room') && c
        );
      },
      3000,
      'the alert card linking to the room',
    );
    expect(updated.buttons.find((b) => b.text === 'Go to the war room')?.url).toContain(
      encodeURIComponent(g.openConversationId),
    );
    expect(updated.buttons.some((b) => b.text === 'Open war room')).toBe(false);

    // A double click answers the existing room; DingTalk still has exactly one group.
    await sb.sim.client.as('bob').click(alertCard, open!.params!);
    const again = await sb.sim.client.until(
      () => botSaid(sb!, 'ops', /already has its war room/),
      3000,
      'the answer',
    );
    expect(again.content).toContain(
      'Incident #1 already has its war room: **#1 HighLatency is high** (open).',
    );
    expect(sceneGroups(sb)).toHaveLength(1);
  });

  it('opens by command, answers the same room the second time, and trims long titles to 30 characters', async () => {
    sb = await warroomBot();
    await incident(sb, 'ReplicationLagOnThePrimaryDatabaseCluster');
    const first = await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    expect(first.content).toMatch(/is open with \d members/);
    const second = await sb.sim.client.as('carol').ask('warroom open 1', { group: 'ops' });
    expect(second.content).toMatch(/already has its war room/);
    const g = await room(sb);
    expect([...g.title]).toHaveLength(30);
    expect(g.title.endsWith('…')).toBe(true);
    expect(sceneGroups(sb)).toHaveLength(1);
    expect((await sb.sim.client.as('bob').ask('warroom open 9', { group: 'ops' })).content).toBe(
      'There is no incident #9.',
    );
  });

  it('makes one room when the reply to the creation is lost and the bot restarts before asking again', async () => {
    sb = await warroomBot();
    await incident(sb);
    // DingTalk creates the group, but the answer never arrives.
    sb.sim.client.api.setFaults({ loseNextReplies: 1, pathFilter: 'scenegroup/create' });
    const lost = await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    expect(lost.content).toContain('DingTalk did not answer in time');
    expect(sceneGroups(sb)).toHaveLength(1);
    sb.sim.client.api.setFaults(null);

    await sb.bot.stop('test');
    await sb.restart();
    const resumed = await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    expect(resumed.content).toContain('War room **#1 HighLatency is high** is open');
    expect(sceneGroups(sb)).toHaveLength(1);
    const calls = sb.sim.client.api.calls().calls.filter((c) => c.path.includes('scenegroup/create'));
    expect(calls).toHaveLength(2);
  });
});

describe('living in the room', () => {
  it('keeps the summary card in step, puts notes on the timeline, and closes with a postmortem on resolve', async () => {
    sb = await warroomBot();
    await incident(sb);
    await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    const g = await room(sb);
    const cid = g.openConversationId;
    const summary = await sb.sim.client.until(
      () => sb!.sim.client.botMessages(cid).find((m) => m.kind === 'card'),
      3000,
      'the summary card',
    );

    // `ack` in the room needs no incident number.
    const acked = await sb.sim.client.as('bob').ask('ack', { group: cid });
    expect(acked.content).toContain('Acknowledged');
    await sb.sim.client.until(
      () => sb!.sim.client.card(summary.cardId!).content.includes('Acknowledged'),
      3000,
      'the summary card showing the acknowledgement',
    );
    expect(sb.sim.client.card(summary.cardId!).content).toContain('@Bob');

    const noted = await sb.sim.client.as('carol').ask('note rolled back to v1.4.2', { group: cid });
    expect(noted.content).toBe('Noted on incident #1.');
    await sb.sim.client.as('carol').ask('note todo: alert on replication lag earlier', { group: cid });
    const timeline = await sb.sim.client.as('bob').ask('timeline', { group: cid });
    expect(timeline.content).toMatch(/\*\*Carol\*\* note: rolled back to v1\.4\.2/);
    expect(timeline.content).toMatch(/\*\*Bob\*\* acknowledged/);
    expect(timeline.content.indexOf('acknowledged')).toBeLessThan(timeline.content.indexOf('rolled back'));

    const resolved = await sb.sim.client.as('bob').ask('resolve', { group: cid });
    expect(resolved.content).toContain('Resolved');
    const pm = await sb.sim.client.until(
      () => botSaid(sb!, cid, /^# Postmortem draft: #1 HighLatency is high/),
      3000,
      'the postmortem in the room',
    );
    expect(botSaid(sb, cid, /Incident #1 is closed/)).toBeDefined();
    for (const section of [
      '## Summary',
      '## Impact window',
      '## Timeline',
      '## Participants',
      '## Open follow-ups',
    ])
      expect(pm.content).toContain(section);
    expect(pm.content).toContain('- [ ] alert on replication lag earlier');
    expect(pm.content).toMatch(/Participants\n.*@Bob.*@Carol/);
    await sb.sim.client.until(
      () => sb!.sim.client.card(summary.cardId!).content.includes('**Room**: closed'),
      3000,
      'the closed summary card',
    );
    expect(sb.sim.client.card(summary.cardId!).buttons).toEqual([]);

    // Stored: retrievable from anywhere, the same text.
    const stored = await sb.sim.client.as('alice').ask('postmortem 1', { group: 'ops' });
    expect(stored.content).toBe(pm.content);
    expect((await sb.sim.client.as('bob').ask('warroom close', { group: cid })).content).toBe(
      'The war room of incident #1 is already closed.',
    );
  });

  it('invites people by name or mobile and names the ones it cannot find', async () => {
    sb = await warroomBot({ warroom: '' });
    await incident(sb);
    await sb.sim.client.as('carol').ask('warroom open 1', { group: 'ops' });
    const g = await room(sb);
    sb.sim.client.state.org.users.push({ userId: 'frank', name: 'Frank', mobile: '13800000007' });
    const r = await sb.sim.client
      .as('carol')
      .ask('warroom invite 13800000007 Dave', { group: g.openConversationId });
    expect(r.content).toContain('Invited 1: frank.');
    expect(r.content).toContain('Dave (nobody in the organisation has mobile 13900000009)');
    expect(g.members).toContain('frank');
    const status = await sb.sim.client.as('carol').ask('warroom status', { group: g.openConversationId });
    expect(status.content).toMatch(/Members\*\*: 3: @Carol, @Bob, @frank/);
    expect(status.content).toContain('@frank');
    expect((await sb.sim.client.as('carol').ask('note hello', { group: 'ops' })).content).toMatch(
      /^This is not a war room/,
    );
    // Whoever acknowledges becomes an assignee and is brought in.
    expect(g.members).not.toContain('alice');
    await sb.sim.client.as('alice').ask('ack 1', { group: 'ops' });
    await sb.sim.client.until(() => g.members.includes('alice'), 15_000, 'alice added to the room');
  });

  it('asks for a status update after the interval without one, not before, and again after a restart', async () => {
    sb = await warroomBot({ warroom: `    statusReminder: { after: 1500ms, check: '* * * * * *' }\n` });
    await incident(sb);
    await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    const g = await room(sb);
    const cid = g.openConversationId;
    await new Promise((r) => setTimeout(r, 700));
    const note = await sb.sim.client.as('bob').ask('note investigating', { group: cid });
    const reminder = await sb.sim.client.until(
      () => botSaid(sb!, cid, /No status update for/),
      6000,
      'the status reminder',
    );
    // Not before the interval since the last update (the note), and only one.
    expect(reminder.at - note.at).toBeGreaterThanOrEqual(1500 - 50);
    expect(sb.sim.client.botMessages(cid).filter((m) => /No status update/.test(m.content))).toHaveLength(1);

    // The schedule lives in the store: after a restart the next reminder comes an interval after the last one.
    await sb.bot.stop('test');
    await sb.restart();
    const next = await sb.sim.client.until(
      () => sb!.sim.client.botMessages(cid).filter((m) => /No status update/.test(m.content))[1],
      8000,
      'the reminder after the restart',
    );
    expect(next.at - reminder.at).toBeGreaterThanOrEqual(1500 - 50);
  });
});

describe('what to fix, in chat and in the log', () => {
  const scopeCases: Array<[string, string, RegExp]> = [
    [
      'qyapi_chat_manage',
      'warroom open 1',
      /lacks the permission `qyapi_chat_manage`, needed to create war rooms/,
    ],
    ['qyapi_get_member_by_mobile', 'warroom open 1', /lacks the permission `qyapi_get_member_by_mobile`/],
  ];
  for (const [scope, command, message] of scopeCases)
    it(`names the missing permission ${scope}`, async () => {
      sb = await warroomBot();
      await incident(sb);
      const app = sb.sim.client.state.org.apps[0]!;
      app.scopes = app.scopes.filter((s) => s !== scope);
      const r = await sb.sim.client.as('bob').ask(command, { group: 'ops' });
      expect(r.content).toMatch(message);
      expect(sceneGroups(sb)).toHaveLength(0);
      const logged = sb.logs.lines.map((l) => JSON.parse(l) as { msg: string; reason?: string });
      expect(
        logged.some((l) => l.msg === 'warroom: could not open the war room' && message.test(l.reason ?? '')),
      ).toBe(true);
    });

  it('opens without qyapi_chat_read but says what the link needs; status names qyapi_chat_base_read', async () => {
    sb = await warroomBot();
    await incident(sb);
    const app = sb.sim.client.state.org.apps[0]!;
    app.scopes = app.scopes.filter((s) => s !== 'qyapi_chat_read' && s !== 'qyapi_chat_base_read');
    const r = await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    expect(r.content).toContain('is open');
    expect(r.content).toMatch(/lacks the permission `qyapi_chat_read`/);
    const g = await room(sb);
    // The room's own first messages (who could not be invited) may still be on their way: the
    // answer to the question is the bot's next message only after them.
    await sb.sim.client.until(
      () => botSaid(sb!, g.openConversationId, /Not invited/),
      5000,
      'the invitation report',
    );
    const status = await sb.sim.client.as('bob').ask('warroom status', { group: g.openConversationId });
    expect(status.content).toMatch(/lacks the permission `qyapi_chat_base_read`/);
  });

  it('names a wrong template id, a template of another app, and a robot that is not the template robot', async () => {
    sb = await warroomBot({ templateId: 'no-such-template' });
    await incident(sb);
    const wrong = await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    expect(wrong.content).toMatch(
      /group template `no-such-template` \(plugins\.warroom\.templateId\) does not exist/,
    );
    await sb.stop();

    sb = await warroomBot({ templateId: 'other-template' });
    sb.sim.client.state.org.sceneGroupTemplates.push({
      templateId: 'other-template',
      clientId: 'another-app',
      robotCode: 'another-robot',
    });
    await incident(sb);
    const unbound = await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    expect(unbound.content).toMatch(
      /`other-template` \(plugins\.warroom\.templateId\) is not bound to this app/,
    );
    await sb.stop();

    sb = await warroomBot({ robotCode: 'dingops-demo' });
    await incident(sb);
    const robot = await sb.sim.client.as('bob').ask('warroom open 1', { group: 'ops' });
    expect(robot.content).toMatch(/robot `dingops-demo` \(plugins\.warroom\.robotCode\) is not in it/);
  });
});

describe("another team's incident", () => {
  it('refuses opening, inviting and notes to a member with no role, from a DM or the button, said and audited', async () => {
    // Carol has no role and the incident was sent to ops and Bob, not to her.
    sb = await warroomBot({ responders: '[role:oncall]', warroom: '    owner: Bob\n' });
    const alertCard = await incident(sb);
    const refused = /Only responders may/;
    expect((await sb.sim.client.as('carol').ask('warroom open 1')).content).toMatch(refused);
    const open = alertCard.buttons.find((b) => b.text === 'Open war room')!;
    await sb.sim.client.as('carol').click(alertCard, open.params!);
    await new Promise((r) => setTimeout(r, 300));
    expect(sceneGroups(sb)).toHaveLength(0);

    // Bob, a responder, opens it; the owner is who the config names, not whoever asked.
    expect((await sb.sim.client.as('alice').ask('warroom open 1', { group: 'ops' })).content).toMatch(
      /is open/,
    );
    const g = await room(sb);
    expect(g.ownerUserId).toBe('bob');
    const members = [...g.members];
    expect((await sb.sim.client.as('carol').ask('warroom invite alice carol --incident 1')).content).toMatch(
      refused,
    );
    expect((await sb.sim.client.as('carol').ask('note all clear, stand down --incident 1')).content).toMatch(
      refused,
    );
    expect([...(sb.sim.state.group(g.openConversationId)?.members ?? [])]).toEqual(members);
    const timeline = await sb.sim.client.as('alice').ask('timeline 1', { group: 'ops' });
    expect(timeline.content).not.toContain('stand down');
    const denied = (await sb.bot.resolve<AuditLog>(AuditToken).query({ limit: 100 })).filter(
      (e) => e.actorId === 'carol' && e.outcome === 'denied',
    );
    expect(denied.map((e) => e.command)).toEqual(
      expect.arrayContaining(['note', 'warroom invite', 'warroom open', 'warroom.open']),
    );
  });
});
