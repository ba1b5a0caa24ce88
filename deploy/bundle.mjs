#!/usr/bin/env node
// The JavaScript of the build: `npm run build` emits the type declarations with tsc, then
// this bundles the code with esbuild. Unbundled, a bot loaded about 1,200 module files
// (kysely alone is 262, zod 95, axios 66) and spent ~700 ms of its start-up resolving,
// reading and linking them; bundled, the same code loads in about half the time.
//
// One build with code splitting, so every entry shares one copy of each module: the
// package's entries (`dingops`, `dingops/testing`, `dingops/simulator`), the CLI, and each
// built-in plugin in its own file, loaded only when configured. Plugins import 'dingops',
// left external: it resolves to dist/core/index.js, the same module the CLI uses. Shared
// chunks live in dist/core/chunks/, two folders below the package root like the sources they
// came from. Dependencies are bundled too, except those that must stay files: native addons
// (better-sqlite3, pg's optional one), pino (its transports start worker threads by file
// name), tsx (development only), and pg (loaded only with a PostgreSQL store).
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const plugins = readdirSync(join(root, 'plugins'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => `plugins/${e.name}/index.ts`);

// Bundled CommonJS dependencies call require() and read __dirname; an ES module has neither.
const banner = [
  "import { createRequire as __dingopsRequire } from 'node:module';",
  "import { dirname as __dingopsDirname } from 'node:path';",
  "import { fileURLToPath as __dingopsFilePath } from 'node:url';",
  'const require = __dingopsRequire(import.meta.url);',
  'const __filename = __dingopsFilePath(import.meta.url);',
  'const __dirname = __dingopsDirname(__filename);',
].join('\n');

// The simulator's sandbox page (HTML, CSS, browser scripts) goes into the bundle as text:
// its module that is empty in the sources gets the files' contents (simulator/sandbox/assets.ts).
const sandboxAssets = {
  name: 'sandbox-assets',
  setup(b) {
    b.onLoad({ filter: /simulator[\\/]sandbox[\\/]asset-files\.ts$/ }, () => {
      const dir = join(root, 'simulator/sandbox/assets');
      const files = Object.fromEntries(readdirSync(dir).filter((f) => !f.endsWith('.d.ts')).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
      return { contents: `export const INLINED_ASSETS = ${JSON.stringify(files)};`, loader: 'js' };
    });
  },
};

// The Stream SDK's `import axios` gets core/receive/stream/sdk-axios.ts, which loads axios
// when the SDK first calls it: our client overrides both of the SDK's calls, and axios at
// import costs an idle bot ~4 MB (its fetch probe loads undici, http2 and zlib). Only the
// SDK's import: everything else that names axios (the stand-in itself) gets axios.
const sdkAxios = {
  name: 'sdk-axios',
  setup(b) {
    b.onResolve({ filter: /^axios$/ }, (args) =>
      /[\\/]node_modules[\\/]dingtalk-stream[\\/]/.test(args.importer)
        ? { path: join(root, 'core/receive/stream/sdk-axios.ts') }
        : undefined,
    );
  },
};

await build({
  plugins: [sandboxAssets, sdkAxios],
  absWorkingDir: root,
  entryPoints: ['core/index.ts', 'core/cli/main.ts', 'testing/index.ts', 'simulator/index.ts', ...plugins],
  outdir: out,
  outbase: '.',
  chunkNames: 'core/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Whitespace and syntax minified, names kept as written: a module's source stays in memory
  // for as long as the process runs, and this halves it (~5 MB less for an idle bot). Stack
  // traces keep their function names; for file lines, run with --enable-source-maps (the maps
  // ship beside the chunks). Renaming identifiers would save little more and need keepNames,
  // which costs ~25 ms of start-up wrapping every function.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  banner: { js: banner },
  external: ['dingops', 'better-sqlite3', 'pg', 'pg-native', 'pino', 'pino-pretty', 'thread-stream', 'tsx', 'tsx/*'],
  logLevel: 'warning',
});
// Chunks of earlier builds go with the whole folder: `npm run build` empties dist/ first
// (its prebuild). Tests build in copies of the checkout (test/helpers/checkout-copy.ts), so
// two builds at once never share this folder.
cpSync(join(root, 'plugins/faq/faq.yaml'), join(out, 'plugins/faq/faq.yaml'));
// The tasks plugin starts its supervisor by path (a process of its own, not a module it imports).
cpSync(join(root, 'plugins/tasks/supervisor.mjs'), join(out, 'plugins/tasks/supervisor.mjs'));
