import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The core's folders in floors, lowest first: a folder imports only from lower floors
 * (type-only imports too: they tie the reader's understanding just the same). Folders on
 * one floor do not import each other: receiving and delivering meet only in `runtime/`.
 * The README's Architecture section shows the same list.
 */
const FLOORS: string[][] = [
  ['util'],
  ['i18n'],
  ['observe'],
  ['config'],
  ['storage', 'scheduler'],
  ['cluster'],
  ['cards'],
  ['messages'],
  ['receive', 'deliver'],
  ['events'],
  ['decide'],
  ['directory'],
  ['diagnostics'],
  ['plugins'],
  ['builtins'],
  ['runtime'],
  ['cli'],
  ['index.ts'],
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const core = join(root, 'core');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * Every relative import of a file: static, type-only, re-exports and `import('...')` types.
 * Static ones start a line; a template that generates code (`dingops plugin new`) has its
 * import lines inside a string whose target is a `.ts` file, which no core import names.
 */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const found: string[] = [];
  const statics = /^(?:import|export)\s[^;]*?from\s+(['"])(\.{1,2}\/[^'"]+\.js)\1/gm;
  const dynamic = /import\(\s*(['"])(\.{1,2}\/[^'"]+\.js)\1\s*\)/g;
  for (const re of [statics, dynamic])
    for (const m of src.matchAll(re)) found.push(resolve(dirname(file), m[2] ?? '').replace(/\.js$/, '.ts'));
  return found;
}

const folderOf = (file: string) => relative(core, file).split('/')[0] ?? '';
const floorOf = (folder: string) => FLOORS.findIndex((f) => f.includes(folder));
const files = sources(core);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(core))]));

describe('core architecture', () => {
  it('every core folder has a floor', () => {
    const folders = new Set(files.map(folderOf));
    expect([...folders].filter((f) => floorOf(f) < 0)).toEqual([]);
    expect(FLOORS.flat().filter((f) => !folders.has(f))).toEqual([]);
  });

  it('imports only run down the floors', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph)
      for (const t of targets) {
        const from = folderOf(file);
        const to = folderOf(t);
        if (from !== to && floorOf(to) >= floorOf(from))
          upward.push(`${relative(root, file)} -> ${relative(root, t)}`);
      }
    expect(upward).toEqual([]);
  });

  it('has no import cycles between files', () => {
    // Tarjan's strongly connected components over the file graph.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
      }
      if (low.get(v) === idx.get(v)) {
        const scc: string[] = [];
        let w: string | undefined;
        do {
          w = stack.pop();
          if (w) {
            onStack.delete(w);
            scc.push(relative(root, w));
          }
        } while (w && w !== v);
        if (scc.length > 1) cycles.push(scc);
      }
    };
    for (const f of files) if (!idx.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the core knows no plugin: nothing in core/ imports from plugins/', () => {
    const plugins = join(root, 'plugins');
    const leaks = files.flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith(plugins))
        .map((t) => `${relative(root, f)} -> ${relative(root, t)}`),
    );
    expect(leaks).toEqual([]);
  });

  it('the checks see a planted upward import', () => {
    // A receiver importing the outbox would cross the receive/deliver line.
    const receiver = join(core, 'receive/inbound-intake.ts');
    const planted = [...(graph.get(receiver) ?? []), join(core, 'deliver/outbox.ts')];
    const crossing = planted.filter(
      (t) => folderOf(t) !== folderOf(receiver) && floorOf(folderOf(t)) >= floorOf(folderOf(receiver)),
    );
    expect(crossing.map((t) => relative(core, t))).toEqual(['deliver/outbox.ts']);
  });
});

describe('protocol references', () => {
  it('every comment that cites docs/dingtalk-protocol.md names a section the page has', () => {
    const page = readFileSync(join(root, 'docs/dingtalk-protocol.md'), 'utf8');
    const sections = new Set([...page.matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)].map((m) => m[1]));
    const cited: string[] = [];
    for (const dir of ['core', 'plugins', 'simulator', 'testing', 'test'])
      for (const file of sources(join(root, dir))) {
        const src = readFileSync(file, 'utf8');
        for (const m of src.matchAll(/dingtalk-protocol\.md((?: (?:and )?§[\d.]+(?:-[\d.]+)?,?)+)/g))
          for (const s of (m[1] ?? '').matchAll(/§(\d+(?:\.\d+)*)(?:-(\d+(?:\.\d+)*))?/g))
            for (const n of [s[1], s[2]])
              if (n && !sections.has(n)) cited.push(`${relative(root, file)}: §${n}`);
        if (/PROTOCOL\.md\s+\d/.test(src))
          cited.push(`${relative(root, file)}: PROTOCOL.md (not in this repository)`);
      }
    expect(sections.size).toBeGreaterThan(30);
    expect(cited).toEqual([]);
  });
});

describe("the README's Architecture section", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('## Development'));

  it('lists the floors of core/ in the order the checks enforce', () => {
    const rows = [...section.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)].map((m) =>
      [...(m[2] ?? '').matchAll(/`core\/([\w-]+)\/`/g)].map((f) => f[1]),
    );
    expect(rows).toEqual(FLOORS.filter((f) => f[0] !== 'index.ts'));
  });

  it('names only files that exist', () => {
    const named = [...section.matchAll(/`((?:[\w-]+\/)*[\w.-]+\.ts)`/g)].map((m) => m[1] ?? '');
    expect(named.length).toBeGreaterThan(25);
    const missing = named.filter((path) => {
      const candidates = [join(root, path), join(core, path)];
      // A bare file name is looked for in the folders of the paragraph it is in.
      if (!path.includes('/')) return !files.some((f) => f.endsWith(`/${path}`));
      return !candidates.some((c) => files.includes(c) || c.startsWith(join(root, 'test')));
    });
    expect(missing).toEqual([]);
  });
});
