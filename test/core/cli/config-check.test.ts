import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configCheck } from '../../../core/cli/config-check.js';
import { configSchema } from '../../../core/cli/config-schema.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return {
    stream,
    get text() {
      return text;
    },
  };
}

describe('dingops config check / schema', () => {
  it('passes the shipped bot.config.yaml', async () => {
    const out = sink();
    expect(await configCheck(['bot.config.yaml'], out.stream, sink().stream)).toBe(0);
    expect(out.text).toContain('OK');
    expect(out.text).toContain('plugins: hello');
  });

  it('fails with located problems for a bad file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  port: high\nplugins:\n  hello:\n    greting: hi\n');
    const err = sink();
    expect(await configCheck([file], sink().stream, err.stream)).toBe(1);
    expect(err.text).toContain('server.port: expected number, received string (line 2)');
    expect(err.text).toContain("plugins.hello.greting: unknown key; did you mean 'greeting'? (line 5)");
  });

  it('warns about secrets written into the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'dingtalk:\n  clientSecret: plain\n');
    const out = sink();
    expect(await configCheck([file], out.stream, sink().stream)).toBe(0);
    expect(out.text).toContain('warning: dingtalk.clientSecret is written in the file');
  });

  it('warns about secrets too short to be secrets (compose’s default database password)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'storage:\n  url: postgres://dingops:${PG_PASSWORD}@localhost/dingops\n');
    const out = sink();
    const before = process.env.PG_PASSWORD;
    process.env.PG_PASSWORD = 'dingops';
    try {
      expect(await configCheck([file], out.stream, sink().stream)).toBe(0);
    } finally {
      if (before === undefined) delete process.env.PG_PASSWORD;
      else process.env.PG_PASSWORD = before;
    }
    expect(out.text).toContain('warning: storage.url password is shorter than 12 characters');
    expect(out.text).not.toContain('warning: dingtalk.clientSecret is shorter');
  });

  it('prints a JSON Schema with core sections and built-in plugins', async () => {
    const out = sink();
    expect(await configSchema([], out.stream)).toBe(0);
    const schema = JSON.parse(out.text);
    expect(schema.properties.dingtalk.properties.mode.enum).toEqual(['stream', 'http']);
    expect(schema.properties.plugins.properties.hello.properties.greeting.type).toBe('string');
    expect(schema.properties.server.additionalProperties).toBe(false);
  });
});
