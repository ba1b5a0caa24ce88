import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import semver from 'semver';
import { packageInfo } from '../config/version.js';
import { didYouMean } from '../util/did-you-mean.js';
import { isPluginDefinition, type PluginDefinition } from './define-plugin.js';

/**
 * Built-in plugins: `<root>/plugins` in a source checkout, `<root>/dist/plugins` in the build
 * (where this code may sit in any bundled chunk, so the folder is found from the package root).
 */
export const BUILTIN_PLUGIN_DIR = builtinPluginDir();

function builtinPluginDir(): string {
  const { root } = packageInfo();
  const dist = join(root, 'dist');
  return fileURLToPath(import.meta.url).startsWith(dist + sep)
    ? join(dist, 'plugins')
    : join(root, 'plugins');
}

const INDEX_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'];

export class PluginResolveError extends Error {}

/** Where a plugin entry's code is: a file path (local or built-in) or a package specifier. */
export function locatePlugin(
  name: string,
  from: string | undefined,
  baseDir: string,
): { kind: 'file'; path: string } | { kind: 'package'; specifier: string } {
  if (!from) {
    const dir = join(BUILTIN_PLUGIN_DIR, name);
    const file = findIndex(dir);
    if (!file) {
      const guess = didYouMean(name, builtinPlugins(), 1)[0];
      throw new PluginResolveError(
        `no built-in plugin '${name}'${guess ? `; did you mean '${guess}'?` : ''} (built-in: ${builtinPlugins().join(', ')}); for your own plugin set 'from' to a path or npm package`,
      );
    }
    return { kind: 'file', path: file };
  }
  if (from.startsWith('.') || isAbsolute(from)) {
    const p = resolve(baseDir, from);
    if (!existsSync(p)) throw new PluginResolveError(`plugin '${name}': ${p} does not exist`);
    if (statSync(p).isDirectory()) {
      const file = findIndex(p);
      if (!file) throw new PluginResolveError(`plugin '${name}': ${p} has no ${INDEX_FILES.join('/')}`);
      return { kind: 'file', path: file };
    }
    return { kind: 'file', path: p };
  }
  return { kind: 'package', specifier: from };
}

/** The names of the plugins shipped with dingops. */
export function builtinPlugins(): string[] {
  if (!existsSync(BUILTIN_PLUGIN_DIR)) return [];
  return readdirSync(BUILTIN_PLUGIN_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && findIndex(join(BUILTIN_PLUGIN_DIR, e.name)))
    .map((e) => e.name)
    .sort();
}

function findIndex(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const f of INDEX_FILES) if (existsSync(join(dir, f))) return join(dir, f);
  return undefined;
}

/**
 * Imports a plugin module and returns its definition (default export, or `plugin`).
 * TypeScript files load without a build step: when the running Node has no TS loader,
 * tsx's API compiles them on the fly, so an operator can mount a `.ts` plugin.
 */
export async function importPlugin(
  name: string,
  from: string | undefined,
  baseDir: string,
): Promise<PluginDefinition> {
  const where = locatePlugin(name, from, baseDir);
  // Before any of its code runs: a package built for another dingops is refused unloaded.
  if (where.kind === 'package' || from)
    checkApiRange(name, where.kind === 'file' ? where.path : undefined, from, baseDir);
  let mod: Record<string, unknown>;
  try {
    if (where.kind === 'file') mod = await importFile(where.path);
    else {
      let specifier = where.specifier;
      try {
        specifier = pathToFileURL(createRequire(join(baseDir, 'package.json')).resolve(where.specifier)).href;
      } catch {
        // ESM-only package or not under baseDir: let Node resolve it from dingops' own node_modules.
      }
      mod = (await import(specifier)) as Record<string, unknown>;
    }
  } catch (err) {
    if (err instanceof PluginResolveError) throw err;
    throw new PluginResolveError(
      `plugin '${name}' could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const def = [mod.default, mod.plugin, (mod.default as Record<string, unknown> | undefined)?.default].find(
    isPluginDefinition,
  );
  if (!def)
    throw new PluginResolveError(
      `plugin '${name}': the module exports no plugin (export default definePlugin({...}))`,
    );
  if (def.name !== name)
    throw new PluginResolveError(
      `plugin configured as '${name}' calls itself '${def.name}'; use the same name in config`,
    );
  return def;
}

/**
 * A plugin package declares the dingops API it was built for (`"dingops": { "api": "^0.1" }`
 * in its package.json, as `dingops plugin new` writes it); one built for another major is
 * refused with both versions named, rather than failing later in some call.
 */
function checkApiRange(
  name: string,
  file: string | undefined,
  from: string | undefined,
  baseDir: string,
): void {
  const pkgFile = file
    ? findPackageJson(dirname(file))
    : from
      ? findInstalledPackage(from, baseDir)
      : undefined;
  if (!pkgFile) return;
  const range = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { dingops?: { api?: string } }).dingops?.api;
  if (!range) return;
  const { version } = packageInfo();
  if (!semver.validRange(range))
    throw new PluginResolveError(
      `plugin '${name}': "dingops": { "api": "${range}" } in ${pkgFile} is not a version range`,
    );
  if (!semver.satisfies(version, range, { includePrerelease: true }))
    throw new PluginResolveError(
      `plugin '${name}' was built for dingops ${range}, and this is dingops ${version}: use a version of the plugin made for ${semver.major(version)}.x, or a dingops in ${range}`,
    );
}

/** The nearest package.json at or above `dir` (a plugin folder or file). */
function findPackageJson(dir: string): string | undefined {
  for (let d = dir, i = 0; i < 8; i++, d = dirname(d)) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string };
      // dingops' own package.json (a built-in plugin) declares no plugin API range.
      return pkg.name === 'dingops' ? undefined : p;
    }
    if (dirname(d) === d) break;
  }
  return undefined;
}

/**
 * The package.json of an installed package, read from disk rather than imported: through
 * Node's resolution when the package exports it, else from the `node_modules` folders above
 * `baseDir` and dingops' own (a package whose `exports` leave out `./package.json` still has one).
 */
function findInstalledPackage(specifier: string, baseDir: string): string | undefined {
  try {
    return createRequire(join(baseDir, 'package.json')).resolve(`${specifier}/package.json`);
  } catch {
    // Not exported, or not installed: look for the file itself.
  }
  const roots = [resolve(baseDir), packageInfo().root];
  for (const root of roots)
    for (let d = root, i = 0; i < 16; i++, d = dirname(d)) {
      const p = join(d, 'node_modules', ...specifier.split('/'), 'package.json');
      if (existsSync(p)) return p;
      if (dirname(d) === d) break;
    }
  return undefined;
}

async function importFile(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (!/\.(c|m)?ts$/.test(path)) return import(url);
  try {
    // Node 22.18+ runs TypeScript by itself (type stripping); older ones refuse the extension.
    return await import(url);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' && !(err instanceof SyntaxError)) throw err;
    // tsx is a development tool: a source checkout has it; a production install may not.
    let tsImport: (url: string, parent: string) => Promise<unknown>;
    try {
      ({ tsImport } = await import('tsx/esm/api'));
    } catch {
      throw new PluginResolveError(
        `${path} is TypeScript, which Node ${process.versions.node} cannot load by itself: build the plugin to JavaScript, run Node 22.18 or newer, or install tsx`,
      );
    }
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
}
