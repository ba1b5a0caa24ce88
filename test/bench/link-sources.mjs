// The bench runs a compiled copy of this repository (.bench). Plugins import 'dingops', which
// Node resolves to the package's own build (dist/) by its exports: pointed here at the same
// compiled copy instead, so the bench runs one core, the one it measures.
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const out = process.argv[2] ?? '.bench';
const targets = {
  dingops: 'core/index.js',
  'dingops/testing': 'testing/index.js',
  'dingops/simulator': 'simulator/index.js',
};
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
for (const file of walk(out)) {
  const text = readFileSync(file, 'utf8');
  const linked = text.replace(/from '(dingops(?:\/testing|\/simulator)?)'/g, (_m, spec) => {
    let rel = relative(dirname(file), join(out, targets[spec]));
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `from '${rel}'`;
  });
  if (linked !== text) writeFileSync(file, linked);
}

// The simulator's sandbox page reads its files beside its module when run from sources.
cpSync('simulator/sandbox/assets', join(out, 'simulator/sandbox/assets'), { recursive: true });
