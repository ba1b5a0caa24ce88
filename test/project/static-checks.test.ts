import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeIndependentPass } from '../helpers/storage.js';

// The README's one test command also guards types and lint, so CI catches them.
function run(cmd: string, args: string[]): { code: number; output: string } {
  try {
    const output = execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    return { code: 0, output };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe.runIf(storeIndependentPass)('static checks', () => {
  it('type-checks with tsc --noEmit (strict)', () => {
    const r = run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--noEmit']);
    expect(r.output.split('\n').filter((l) => /error TS/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);

  it('passes biome lint and format checks', () => {
    const r = run('npx', ['--no-install', 'biome', 'check', '.']);
    expect(r.code, r.output.slice(0, 4000)).toBe(0);
  }, 120_000);

  it("enforces that plugins import only 'dingops' and their own files", () => {
    // A file directly under plugins/ (not a folder: no plugin is created), removed after.
    const lint = (source: string) => {
      const file = `plugins/.lint-probe-${process.pid}.ts`;
      writeFileSync(file, source);
      try {
        return spawnSync('npx', ['--no-install', 'biome', 'lint', file], { encoding: 'utf8' });
      } finally {
        rmSync(file, { force: true });
      }
    };
    const inside = lint(
      "import { MessengerToken } from '../../core/deliver/messenger.js';\nexport const x = MessengerToken;\n",
    );
    expect(inside.status).not.toBe(0);
    expect(`${inside.stdout}${inside.stderr}`).toContain("A plugin imports only 'dingops'");
    const other = lint(
      "import { SEVERITY_ICON } from '../alerts/model.js';\nexport const x = SEVERITY_ICON;\n",
    );
    expect(other.status).not.toBe(0);
    expect(lint("import { card } from 'dingops';\nexport const x = card;\n").status).toBe(0);
  }, 60_000);

  it('enforces the boundaries between the simulator, receiving and sending', () => {
    // Probe files in the folders the rules cover, removed after.
    const lint = (folder: string, source: string) => {
      const file = `${folder}/.lint-probe-${process.pid}.ts`;
      writeFileSync(file, source);
      try {
        const r = spawnSync('npx', ['--no-install', 'biome', 'lint', file], { encoding: 'utf8' });
        return { status: r.status, text: `${r.stdout}${r.stderr}` };
      } finally {
        rmSync(file, { force: true });
      }
    };
    const sim = lint('simulator', "import { card } from '../core/cards/card.js';\nexport const x = card;\n");
    expect(sim.status).not.toBe(0);
    expect(sim.text).toContain('shares no code with the bot');
    expect(lint('simulator', "import { card } from 'dingops';\nexport const x = card;\n").status).not.toBe(0);
    const receive = lint(
      'core/receive',
      "import { Outbox } from '../deliver/outbox.js';\nexport const x = Outbox;\n",
    );
    expect(receive.status).not.toBe(0);
    expect(receive.text).toContain('Receiving code does not import sending code');
    const deliver = lint(
      'core/deliver',
      "import { Inbox } from '../receive/inbox.js';\nexport const x = Inbox;\n",
    );
    expect(deliver.status).not.toBe(0);
    expect(deliver.text).toContain('Sending code does not import receiving code');
    // What each side may import still passes.
    expect(
      lint('core/receive', "import { isCard } from '../cards/card.js';\nexport const x = isCard;\n").status,
    ).toBe(0);
  }, 60_000);

  it('the API reference in docs/api is generated from the current declarations', () => {
    // Declarations, extraction and rendering in a scratch folder (dist/ is not touched: other
    // tests build it), which must equal what is committed.
    const tmp = mkdtempSync(join(tmpdir(), 'dingops-api-'));
    const out = join(tmp, 'md');
    execFileSync(
      'npx',
      [
        '--no-install',
        'tsc',
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(tmp, 'dist'),
        '--emitDeclarationOnly',
      ],
      {
        stdio: 'pipe',
        timeout: 120_000,
      },
    );
    const config = JSON.parse(readFileSync('api-extractor.json', 'utf8'));
    // API Extractor names the package from the package.json above the declarations.
    copyFileSync('package.json', join(tmp, 'package.json'));
    config.projectFolder = tmp;
    config.mainEntryPointFilePath = join(tmp, 'dist/core/index.d.ts');
    config.compiler.overrideTsconfig.include = [join(tmp, 'dist/core/index.d.ts')];
    config.docModel.apiJsonFilePath = join(tmp, 'api/dingops.api.json');
    writeFileSync(join(tmp, 'api-extractor.json'), JSON.stringify(config));
    execFileSync(
      'npx',
      ['--no-install', 'api-extractor', 'run', '--local', '--config', join(tmp, 'api-extractor.json')],
      {
        stdio: 'pipe',
        timeout: 120_000,
      },
    );
    execFileSync('npx', ['--no-install', 'api-documenter', 'markdown', '-i', join(tmp, 'api'), '-o', out], {
      stdio: 'pipe',
      timeout: 120_000,
    });
    const files = readdirSync(out).sort();
    expect(files).toEqual(readdirSync('docs/api').sort());
    for (const f of files)
      expect(readFileSync(join(out, f), 'utf8'), `docs/api/${f} is stale: run npm run docs`).toBe(
        readFileSync(join('docs/api', f), 'utf8'),
      );
  }, 300_000);
});
