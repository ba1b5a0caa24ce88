import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCheck } from '../../core/cli/config-check.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced blocks of a language ('' for plain ones), with the HTML comment marker just before each (if any). */
function blocks(text: string, lang: string): Array<{ body: string; marker?: string; line: number }> {
  const out: Array<{ body: string; marker?: string; line: number }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (open[1] === lang)
      out.push({
        body: `${lines.slice(i + 1, end).join('\n')}\n`,
        marker: /^<!-- (.*) -->$/.exec(lines[i - 1] ?? '')?.[1],
        line: i + 2,
      });
    i = end;
  }
  return out;
}

/** Checks a config text as `dingops config check` does, with every `${VAR}` it names set. */
async function check(yaml: string): Promise<{ code: number; text: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dingops-example-'));
  const file = join(dir, 'bot.config.yaml');
  writeFileSync(file, yaml);
  // A plugin of one's own (`mine: { from: ./plugins/mine }`): a minimal one stands in for it.
  for (const m of yaml.matchAll(/^ {2}([\w-]+):\n {4}from: (\.\/\S+)/gm)) {
    mkdirSync(join(dir, m[2]!), { recursive: true });
    writeFileSync(join(dir, m[2]!, 'index.mjs'), `export default { name: '${m[1]}', setup() {} };\n`);
  }
  // Variables without a default (`${VAR:-8080}` has one).
  const vars = [...yaml.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
  const saved = vars.map((v) => [v, process.env[v]] as const);
  // Long enough for any token or secret minimum.
  for (const v of vars) process.env[v] ??= `example-${v.toLowerCase()}-0123456789abcdef`;
  let text = '';
  const sink = {
    write: (s: string) => {
      text += s;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  try {
    return { code: await configCheck([file], sink, sink), text };
  } finally {
    for (const [v, value] of saved) if (value === undefined) delete process.env[v];
  }
}

describe('every config example parses', () => {
  it("the README's YAML blocks pass config check", async () => {
    const examples = blocks(README, 'yaml').filter((b) => !b.marker?.startsWith('config-check-example'));
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const b of examples) {
      const r = await check(b.body);
      expect(r.code, `README.md line ${b.line}:\n${r.text}`).toBe(0);
    }
  });

  it('the shipped bot.config.yaml passes, also with each commented plugin block enabled', async () => {
    const shipped = readFileSync(join(ROOT, 'bot.config.yaml'), 'utf8');
    expect((await check(shipped)).code).toBe(0);
    // Below `plugins:`, the commented-out config lines (`  # key: ...`, `  #   - ...`) become config.
    const [head, plugins] = shipped.split(/^plugins:\n/m) as [string, string];
    const enabled = plugins
      .split('\n')
      .map((l) => {
        const m = /^ {2}# ( *)([a-zA-Z][\w-]*:(?: |$)|- )(.*)$/.exec(l);
        return m ? `  ${m[1]}${m[2]}${m[3]}` : l;
      })
      .join('\n');
    const all = `${head}plugins:\n${enabled}`;
    for (const name of ['alerts', 'warroom', 'tasks']) expect(all).toMatch(new RegExp(`^  ${name}:`, 'm'));
    const r = await check(all);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/plugins: hello, faq, alerts, warroom, tasks/);
    // The container image's default config too.
    expect((await check(readFileSync(join(ROOT, 'deploy/bot.config.yaml'), 'utf8'))).code).toBe(0);
  });

  it("the README's sample config check output is what config check prints", () => {
    const input = blocks(README, 'yaml').find((b) => b.marker === 'config-check-example: input')!;
    const output = blocks(README, '').find((b) => b.marker === 'config-check-example: output')!;
    expect(input && output).toBeTruthy();
    const [command, ...expected] = output.body.trimEnd().split('\n');
    expect(command).toBe('$ npm run dingops -- config check bot.config.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'dingops-readme-'));
    writeFileSync(join(dir, 'bot.config.yaml'), input.body);
    const env = { ...process.env };
    delete env.ALERTS_TOKEN;
    const r = spawnSync(
      join(ROOT, 'node_modules/.bin/tsx'),
      [
        '--tsconfig',
        join(ROOT, 'tsconfig.json'),
        join(ROOT, 'core/cli/main.ts'),
        'config',
        'check',
        'bot.config.yaml',
      ],
      { cwd: dir, env, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(`${r.stdout}${r.stderr}`.trimEnd().split('\n')).toEqual(expected);
  });
});

describe('the README plugin example', () => {
  it('is the shipped plugins/hello/index.ts (so it compiles and is tested)', () => {
    const block = blocks(README, 'ts').find((b) => b.marker === 'hello-plugin');
    expect(block).toBeDefined();
    const file = readFileSync(join(ROOT, 'plugins/hello/index.ts'), 'utf8');
    expect(block!.body).toBe(file);
  });
});
