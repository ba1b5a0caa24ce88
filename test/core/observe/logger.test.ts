import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/observe/logger.js';
import { SecretRedactor } from '../../../core/util/redact.js';
import { LogCapture } from '../../helpers/test-bot.js';

function setup() {
  const redactor = new SecretRedactor();
  redactor.add('client-secret-value', 'AESKEYAESKEYAESKEY');
  const out = new LogCapture();
  return { log: createLogger({ level: 'info', redactor, destination: out }), out };
}

describe('logger redaction', () => {
  it('removes registered secret values from messages, fields and errors', () => {
    const { log, out } = setup();
    log.info('token request with client-secret-value failed');
    log.info({ detail: { nested: 'x=client-secret-value' } }, 'fields');
    log.error({ err: new Error('bad key AESKEYAESKEYAESKEY') }, 'error');
    log.error(new Error('direct client-secret-value'));
    expect(out.text).not.toContain('client-secret-value');
    expect(out.text).not.toContain('AESKEYAESKEYAESKEY');
    expect(out.lines).toHaveLength(4);
    expect(out.text).toContain('***');
  });

  it('redacts secret fields by path and token-bearing URLs by pattern', () => {
    const { log, out } = setup();
    log.info(
      { config: { clientSecret: 'unregistered-1' }, headers: { authorization: 'Bearer abcdefgh12345' } },
      'paths',
    );
    log.info('webhook https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef failed');
    log.info({ url: 'https://oapi.dingtalk.com/robot/sendBySession?session=cafebabe1234' }, 'session');
    expect(out.text).not.toContain('unregistered-1');
    expect(out.text).not.toContain('abcdefgh12345');
    expect(out.text).not.toContain('0123456789abcdef');
    expect(out.text).not.toContain('cafebabe1234');
  });
});

describe('a short secret (a word, like compose’s default database password)', () => {
  it('is masked where it stands as a value, not in every word of the log', () => {
    const redactor = new SecretRedactor();
    redactor.add('dingops');
    const out = new LogCapture();
    const log = createLogger({ level: 'info', redactor, destination: out });
    log.info('dingops ready');
    log.info({ url: 'postgres://dingops:dingops@postgres:5432/dingops' }, 'store');
    log.info('connecting with password=dingops');
    const [ready, store, connecting] = out.lines.map((l) => JSON.parse(l));
    expect(ready.msg).toBe('dingops ready');
    expect(store.url).toBe('postgres://dingops:***@postgres:5432/dingops');
    expect(connecting.msg).toBe('connecting with password=***');
  });
});
