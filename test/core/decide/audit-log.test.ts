import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type AuditEntry, AuditLog } from '../../../core/decide/audit-log.js';
import { SecretRedactor } from '../../../core/util/redact.js';
import { useMigratedStore } from '../../helpers/storage.js';
import { LogCapture } from '../../helpers/test-bot.js';

const useStore = useMigratedStore();
const entry = (i: number, actorId = 'alice'): AuditEntry => ({
  at: 1000 + i,
  kind: 'command',
  actorId,
  command: `cmd${i % 3}`,
  outcome: 'ok',
  args: { i },
});

describe('AuditLog', () => {
  it('buffers records and writes them in batches', async () => {
    const log = new AuditLog(useStore().db, pino({ level: 'silent' }), { batchSize: 1000 });
    for (let i = 0; i < 1200; i++) log.record(entry(i));
    // The first 1000 triggered a flush on their own; wait for everything.
    await log.flush();
    const segments = await useStore()
      .db.selectFrom('audit_segment')
      .select(['entries'])
      .orderBy('id')
      .execute();
    // One insert per batch, not per entry.
    expect(segments.map((s) => Number(s.entries))).toEqual([1000, 200]);
    expect((await log.query({ limit: 500 })).length).toBe(500);
  });

  it('does not chase entries recorded while a write is in flight', async () => {
    const log = new AuditLog(useStore().db, pino({ level: 'silent' }));
    for (let i = 0; i < 10; i++) log.record(entry(i));
    const flushing = log.flush();
    for (let i = 10; i < 15; i++) log.record(entry(i));
    await flushing;
    expect(log.pending).toBe(5);
    await log.flush();
    const segments = await useStore()
      .db.selectFrom('audit_segment')
      .select(['entries'])
      .orderBy('id')
      .execute();
    expect(segments.map((s) => Number(s.entries))).toEqual([10, 5]);
  });

  it('queries newest first, by actor and command', async () => {
    const log = new AuditLog(useStore().db, pino({ level: 'silent' }));
    for (let i = 0; i < 10; i++) log.record(entry(i, i % 2 ? 'bob' : 'alice'));
    const bob = await log.query({ actorId: 'bob', limit: 3 });
    expect(bob.map((e) => e.args)).toEqual([{ i: 9 }, { i: 7 }, { i: 5 }]);
    const cmd0 = await log.query({ command: 'cmd0' });
    expect(cmd0.map((e) => e.at)).toEqual([1009, 1006, 1003, 1000]);
  });

  it('keeps entries when the store fails and writes them once it recovers', async () => {
    const logs = new LogCapture();
    const log = new AuditLog(useStore().db, pino(logs));
    await useStore().db.schema.alterTable('audit_segment').renameTo('audit_away').execute();
    log.record(entry(1));
    await log.flush();
    expect(log.pending).toBe(1);
    expect(logs.text).toContain('audit write failed');
    await useStore().db.schema.alterTable('audit_away').renameTo('audit_segment').execute();
    await log.flush();
    expect(log.pending).toBe(0);
    expect((await log.query()).length).toBe(1);
  });

  it('pages through many segments and filters exactly by actor', async () => {
    const log = new AuditLog(useStore().db, pino({ level: 'silent' }), { batchSize: 10 });
    // 60 segments of 10; bob appears only in the oldest one.
    log.record(entry(0, 'bob'));
    for (let i = 1; i < 600; i++) log.record(entry(i, i === 1 ? 'bobby' : 'alice'));
    await log.flush();
    const bob = await log.query({ actorId: 'bob' });
    expect(bob.map((e) => e.actorId)).toEqual(['bob']);
    const recent = await log.query({ limit: 25 });
    expect(recent.map((e) => e.at)).toEqual(Array.from({ length: 25 }, (_, i) => 1599 - i));
  });

  it('stores args with secret keys masked and secret values removed, even inside JSON escapes', async () => {
    const redactor = new SecretRedactor();
    redactor.add('pa"ss\\word-123');
    const log = new AuditLog(useStore().db, pino({ level: 'silent' }), { redactor });
    log.record(
      {
        ...entry(1),
        args: {
          token: 'keyed-secret',
          note: 'uses pa"ss\\word-123 here',
          url: 'https://x/?access_token=abcdef123',
        },
      },
      new Set(['token']),
    );
    const [e] = await log.query();
    expect(e!.args).toEqual({ token: '***', note: 'uses *** here', url: 'https://x/?access_token=***' });
  });

  it('prunes segments older than the retention cutoff', async () => {
    const log = new AuditLog(useStore().db, pino({ level: 'silent' }), { batchSize: 5 });
    for (let i = 0; i < 10; i++) log.record(entry(i));
    await log.flush();
    expect(await log.prune(1005)).toBe(5);
    expect((await log.query({ limit: 100 })).map((e) => e.at)).toEqual([1009, 1008, 1007, 1006, 1005]);
  });

  it('drops the oldest past the buffer cap, and says so', async () => {
    const logs = new LogCapture();
    const log = new AuditLog(useStore().db, pino(logs), { maxBuffered: 5, batchSize: 1000 });
    for (let i = 0; i < 8; i++) log.record(entry(i));
    expect(log.pending).toBe(5);
    expect(log.dropped).toBe(3);
    expect(logs.text).toContain('audit buffer overflow');
  });
});

describe('audit in chat', () => {
  it('one huge entry does not push the others out of `audit -n 3`', async () => {
    const { createTestBot } = await import('../../helpers/test-bot.js');
    const tb = await createTestBot();
    try {
      await tb.ask('ping');
      await tb.ask(`x${'y'.repeat(100_000)}`);
      await tb.ask('whoami');
      const shown = await tb.ask('audit -n 3');
      const lines = shown.split('\n').filter((l) => /^\s*- \d{4}-/.test(l));
      expect(lines).toHaveLength(3);
      expect(lines.map((l) => /`([^`]*)`/.exec(l)?.[1]?.slice(0, 6))).toEqual(['whoami', 'xyyyyy', 'ping']);
      expect(shown.length).toBeLessThan(6000);
    } finally {
      await tb.stop();
    }
  });
});
