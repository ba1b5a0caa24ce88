import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { card } from '../../../core/cards/card.js';
import { MessengerToken } from '../../../core/deliver/messenger.js';
import { classifyLegacy, classifyNewApi } from '../../../core/deliver/openapi/api-error.js';
import { OutboxToken } from '../../../core/deliver/outbox.js';
import { MetricsToken } from '../../../core/observe/metrics.js';
import hello from '../../../plugins/hello/index.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

/** DingTalk's published answers (test/fixtures/dingtalk-real/openapi) and what the bot makes of each. */
const ANSWERS = join(import.meta.dirname, '../../fixtures/dingtalk-real/openapi');
const EXPECTED: Record<string, string> = {
  'create-and-deliver-ok.json': 'ok',
  'create-and-deliver-failed-recipient.json': 'invalid',
  'new-api-qps-403.json': 'throttled',
  'new-api-quota-403.json': 'quota',
  'new-api-permission-403.json': 'permission',
  'legacy-88-90018.json': 'throttled',
  'legacy-90018.json': 'throttled',
  'legacy-88-90020-quota.json': 'quota',
  'legacy-88-40014-token.json': 'auth',
  'legacy-90002.json': 'throttled',
  'legacy-22-unknown-path.json': 'invalid',
};

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

describe("DingTalk's published answers", () => {
  it('classifies each by what the caller must do (retry, stop, ask for a permission, refresh)', () => {
    const files = readdirSync(ANSWERS).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const file of files) {
      const { status, body } = JSON.parse(readFileSync(join(ANSWERS, file), 'utf8'));
      let kind: string;
      if (status !== 200) kind = classifyNewApi('x', status, body).kind;
      else if ('errcode' in body) kind = body.errcode === 0 ? 'ok' : classifyLegacy('x', body).kind;
      else
        kind = body.result?.deliverResults?.some((r: { success: boolean }) => !r.success) ? 'invalid' : 'ok';
      expect(kind, file).toBe(EXPECTED[file]);
    }
  });

  it('reads a card delivery that failed inside a 200: falls back to markdown, and dead-letters what cannot arrive', async () => {
    sb = await createSimBot({ plugins: [hello] });
    const ops = sb.sim.state.group('ops')!;
    const messenger = sb.bot.resolve(MessengerToken);
    const outbox = sb.bot.resolve(OutboxToken);
    const metrics = sb.bot.resolve(MetricsToken);
    const incident = card({
      title: 'Disk full on db-1',
      body: 'db-1 is at 99%',
      buttons: [{ text: 'Wave', action: { id: 'hello.wave', params: { name: 'x' } }, command: 'hello wave' }],
    });

    // The robot is not in the group: DingTalk makes the card, answers 200, and says inside
    // that the recipient failed. The markdown fallback is refused too: the row dead-letters.
    ops.coolAppInstalled = false;
    await messenger.send({ kind: 'group', openConversationId: ops.openConversationId }, incident);
    await sb.sim.client.until(() => outbox.deadCount === 1, 5000, 'the dead letter');
    const calls = sb.sim.state.calls.map((c) => `${c.path} ${c.status}`);
    expect(calls).toContain('/v1.0/card/instances/createAndDeliver 200');
    expect(calls).toContain('/v1.0/robot/groupMessages/send 400');
    expect(outbox.lastDeadReason).toMatch(/robot is not in this group/);
    expect(metrics.apiCalls.value('card/instances/createAndDeliver', 'invalid')).toBe(1);
    expect(sb.sim.client.botMessages('ops')).toEqual([]);

    // The failure is what `status` shows for the outbox.
    expect(outbox.deadCount).toBe(1);
  });
});
