import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * bin/dingops.js, the `dingops` command, chooses what to run: in a checkout the sources (a
 * dist/ there is an old snapshot), in the installed package its build. Played in a folder
 * with both a "sources" and a "build" CLI that say which they are.
 */
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function cliEntry(withSources: boolean): string {
  dir = mkdtempSync(join(tmpdir(), 'dingops-entry-'));
  cpSync(resolve('bin'), join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  const cli = (kind: string) =>
    `export async function main(argv) { process.stdout.write('${kind}: ' + argv.join(' ')); return 3; }\nexport function exitWith(code) { process.exitCode = code; }\n`;
  mkdirSync(join(dir, 'dist/core/cli'), { recursive: true });
  writeFileSync(join(dir, 'dist/core/cli/main.js'), cli('build'));
  if (withSources) {
    mkdirSync(join(dir, 'core/cli'), { recursive: true });
    // TypeScript only tsx can load: the sources ran through tsx, not by accident.
    writeFileSync(
      join(dir, 'core/cli/main.ts'),
      cli('sources')
        .replace('main(argv)', 'main(argv: string[]): Promise<number>')
        .replace('exitWith(code)', 'exitWith(code: number)'),
    );
  }
  return dir;
}

function run(folder: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(folder, 'bin/dingops.js'), 'help', 'me'], {
    encoding: 'utf8',
    env: { ...process.env, DINGOPS_RUN_BUILD: '', ...env },
  });
  return { out: r.stdout, code: r.status, err: r.stderr };
}

describe('the dingops command', () => {
  it('in a checkout runs the sources, even beside an earlier build, with the arguments and exit code', () => {
    const r = run(cliEntry(true));
    expect(r.err).toBe('');
    expect(r.out).toBe('sources: help me');
    expect(r.code).toBe(3);
  });

  it('in a checkout runs the build when told to (DINGOPS_RUN_BUILD=1)', () => {
    expect(run(cliEntry(true), { DINGOPS_RUN_BUILD: '1' }).out).toBe('build: help me');
  });

  it('in the installed package (no sources) runs the build, and says to build when there is none', () => {
    const folder = cliEntry(false);
    expect(run(folder).out).toBe('build: help me');
    rmSync(join(folder, 'dist'), { recursive: true });
    const r = run(folder);
    expect(r.err).toContain('run `npm run build` first');
    expect(r.code).toBe(1);
  });
});
