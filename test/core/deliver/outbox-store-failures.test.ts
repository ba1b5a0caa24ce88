import type { CompiledQuery } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { MessengerToken } from '../../../core/deliver/messenger.js';
import { DatabaseToken } from '../../../core/storage/database.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

/**
 * The store failing under delivery (SQLite's single writer here; PostgreSQL going away is
 * postgres-restart.test.ts): the bot goes on, and what DingTalk accepted is not sent again.
 */
const sqlite = process.env.DINGOPS_TEST_STORAGE !== 'postgres';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

/** Makes the next `n` statements matching `pattern` fail, as a busy or vanished store would. */
function failNext(s: SimBot, pattern: RegExp, n = 1): { failed: number } {
  const store = s.bot.resolve(DatabaseToken);
  const seen = { failed: 0 };
  const write = store.write.bind(store);
  store.write = async (q: CompiledQuery) => {
    if (seen.failed < n && pattern.test(q.sql)) {
      seen.failed++;
      throw Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
    }
    return write(q);
  };
  const executor = store.db.getExecutor();
  const execute = executor.executeQuery.bind(executor);
  executor.executeQuery = (async (q: CompiledQuery) => {
    if (seen.failed < n && pattern.test(q.sql)) {
      seen.failed++;
      throw Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
    }
    return execute(q);
  }) as typeof executor.executeQuery;
  return seen;
}

describe.runIf(sqlite)('the outbox when the store fails', () => {
  it('retries recording a delivery that DingTalk accepted, never the send', async () => {
    sb = await createSimBot();
    const failing = failNext(sb, /set status = 'sent'/);
    expect((await sb.sim.client.as('bob').ask('ping', { group: 'ops' })).content).toBe('pong');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(failing.failed).toBe(1);
    expect(sb.sim.client.botMessages('ops').filter((m) => m.content === 'pong')).toHaveLength(1);
    expect(sb.logs.text).toContain('retrying the record, not the send');
    // Recorded in the end: a restart has nothing left to send.
    await sb.restart();
    await new Promise((r) => setTimeout(r, 500));
    expect(sb.sim.client.botMessages('ops').filter((m) => m.content === 'pong')).toHaveLength(1);
  });

  it('goes on when recording a retry fails, and delivers once the store answers again', async () => {
    sb = await createSimBot();
    const escaped: unknown[] = [];
    const onEscape = (e: unknown) => void escaped.push(e);
    process.on('unhandledRejection', onEscape);
    try {
      // DingTalk fails the send once (a retry is due); recording that retry fails too.
      sb.sim.client.api.setFaults({ failNext: 1, pathFilter: 'groupMessages' });
      const failing = failNext(sb, /update "outbox" set "attempts"/);
      await sb.bot
        .resolve(MessengerToken)
        .send({ kind: 'group', openConversationId: 'cid-ops' }, 'deploy done');
      const sent = await sb.sim.client.nextReply('ops', { after: 0, timeoutMs: 10_000 });
      expect(sent.content).toBe('deploy done');
      expect(failing.failed).toBe(1);
      await new Promise((r) => setTimeout(r, 500));
      expect(sb.sim.client.botMessages('ops').filter((m) => m.content === 'deploy done')).toHaveLength(1);
      expect(escaped).toEqual([]);
      // Still answering.
      expect((await sb.sim.client.as('carol').ask('ping', { group: 'ops' })).content).toBe('pong');
    } finally {
      process.off('unhandledRejection', onEscape);
    }
  });

  it('dead-letters at once what fails with a programming error, instead of retrying it for a day', async () => {
    sb = await createSimBot();
    const store = sb.bot.resolve(DatabaseToken);
    // A row whose payload the delivery code cannot read (a bug's signature: a TypeError).
    await store.db
      .insertInto('outbox')
      .values({
        kind: 'send',
        conversation_key: 'group:cid-ops',
        payload: JSON.stringify({ target: null }),
        status: 'pending',
        attempts: 0,
        next_attempt_at: 0,
        created_at: Date.now(),
      } as never)
      .execute();
    await sb.restart();
    await sb.sim.client.until(
      () => sb!.logs.lines.find((l) => l.includes('message dead-lettered')),
      5_000,
      'the dead letter',
    );
    expect(sb.logs.text).toContain('a programming error while delivering');
  });
});
