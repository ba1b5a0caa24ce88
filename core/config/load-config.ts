import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { token } from '../util/di-token.js';
import { SECRET_KEY, SecretRedactor } from '../util/redact.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { type CoreConfig, coreSchema, PLUGIN_ENTRY_KEYS } from './core-schema.js';
import { interpolateEnv } from './env-interpolation.js';
import { applyEnvOverrides } from './env-overrides.js';
import { YamlSource } from './yaml-source.js';
import { zodProblems } from './zod-problems.js';

export interface PluginEntry {
  name: string;
  from?: string;
  enabled: boolean;
  required: boolean;
  /** The plugin's own config slice (everything but the loader keys), not yet validated. */
  raw: Record<string, unknown>;
}

export interface LoadedConfig {
  core: CoreConfig;
  plugins: PluginEntry[];
  /** Where the file was read from (undefined when running on defaults). */
  file?: string;
  /** Directory relative paths in the config resolve against. */
  baseDir: string;
  source?: YamlSource;
  /** Values that must never be logged or shown. */
  secrets: string[];
  /** Paths of secret-looking keys whose value is written in the file instead of coming from env. */
  literalSecretPaths: string[];
  /** Secrets short enough to be ordinary words (`storage.url password`, `dingtalk.token`): logs mask them as values only. */
  shortSecretPaths: string[];
  /**
   * Where values came from besides the file's literal text (`config check` shows it): paths
   * set by an environment override (`DINGOPS_PORT`), and paths whose `${VAR}` read a variable.
   */
  origins: { overrides: Record<string, string>; interpolated: Record<string, string[]> };
}

export interface LoadOptions {
  file?: string;
  text?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Reads, interpolates, overrides from env, and validates the core sections. Throws ConfigError. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file =
    options.file ??
    env.DINGOPS_CONFIG ??
    (existsSync(resolve(cwd, 'bot.config.yaml')) ? 'bot.config.yaml' : undefined);
  const path = file ? resolve(cwd, file) : undefined;
  let text = options.text;
  if (text === undefined && path) {
    if (!existsSync(path)) throw new ConfigError([{ path: '', message: `config file not found: ${path}` }]);
    text = readFileSync(path, 'utf8');
  }
  const source = text !== undefined ? new YamlSource(text, path) : undefined;
  const problems: ConfigProblem[] = source ? source.syntaxProblems() : [];
  if (problems.length) throw new ConfigError(problems, path);

  let raw: Record<string, unknown> = {};
  const secrets: string[] = [];
  const literalSecretPaths: string[] = [];
  const interpolated: Record<string, string[]> = {};
  if (source) {
    const interp = interpolateEnv(source.doc, env, source.lineOfOffset);
    problems.push(...interp.problems);
    for (const { path: p, value, vars } of interp.fromEnv) {
      interpolated[p] = vars;
      if (SECRET_KEY.test(lastKey(p)) || /secret|token|key|password/i.test(p)) secrets.push(value);
    }
    const js = source.doc.toJS() ?? {};
    if (typeof js !== 'object' || Array.isArray(js))
      problems.push({ path: '', message: 'expected a mapping of sections (dingtalk, server, ...)', line: 1 });
    else raw = js as Record<string, unknown>;
    const envPaths = new Set(interp.fromEnv.map((e) => e.path));
    collectLiteralSecrets(raw, [], envPaths, literalSecretPaths);
  }
  const overrides = applyEnvOverrides(raw, env);

  const parsed = coreSchema.safeParse(raw);
  // Every problem at once: an unset ${VAR} does not hide the rest of the file's mistakes (a
  // value left empty by an unset variable is reported once, as the variable).
  const unset = new Set(problems.map((p) => p.path));
  if (!parsed.success || problems.length) {
    problems.push(
      ...(parsed.success
        ? []
        : zodProblems(parsed.error, coreSchema, { lineAt: (p) => source?.lineAt(p) })
      ).filter((p) => !unset.has(p.path)),
    );
    // The plugin entries may still be readable: hand them on so plugin slices can be checked too.
    const pluginsOnly = coreSchema.shape.plugins.safeParse(raw.plugins);
    const partial =
      pluginsOnly.success && !problems.some((p) => p.path.startsWith('plugins') && !unset.has(p.path))
        ? {
            plugins: pluginEntries(pluginsOnly.data),
            baseDir: path ? resolve(path, '..') : cwd,
            source,
            file: path,
            unsetPaths: [...unset],
          }
        : undefined;
    throw new ConfigError(problems, path, partial);
  }
  const core = parsed.data;
  secrets.push(
    core.dingtalk.clientSecret,
    core.dingtalk.aesKey ?? '',
    core.dingtalk.token ?? '',
    core.server.statusToken ?? '',
  );
  const pw = /^postgres(?:ql)?:\/\/[^:/]+:([^@]+)@/.exec(core.storage.url)?.[1];
  if (pw) secrets.push(decodeURIComponent(pw));
  // A secret that is a word (compose's default database password is `dingops`) cannot be
  // masked everywhere without masking the word too: the log masks it where it is a value.
  const shortSecretPaths = (
    [
      ['dingtalk.clientSecret', core.dingtalk.clientSecret],
      ['dingtalk.token', core.dingtalk.token],
      ['storage.url password', pw ? decodeURIComponent(pw) : undefined],
    ] as Array<[string, string | undefined]>
  )
    .filter(([, v]) => v && v.length < SecretRedactor.WORD_LIKE)
    .map(([p]) => p);

  const plugins = pluginEntries(core.plugins);
  return {
    core,
    plugins,
    file: path,
    baseDir: path ? resolve(path, '..') : cwd,
    source,
    secrets: secrets.filter(Boolean),
    literalSecretPaths,
    shortSecretPaths,
    origins: { overrides, interpolated },
  };
}

function pluginEntries(section: CoreConfig['plugins']): PluginEntry[] {
  return Object.entries(section).map(([name, entry]) => {
    const rawEntry = { ...((entry ?? {}) as Record<string, unknown>) };
    for (const k of PLUGIN_ENTRY_KEYS) delete rawEntry[k];
    return {
      name,
      from: entry?.from,
      enabled: entry?.enabled ?? true,
      required: entry?.required ?? false,
      raw: rawEntry,
    };
  });
}

function lastKey(path: string): string {
  return (path.split('.').pop() ?? '').replace(/\[\d+\]$/, '');
}

function collectLiteralSecrets(value: unknown, path: string[], fromEnv: Set<string>, out: string[]): void {
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const p = [...path, k];
    if (typeof v === 'string' && v && SECRET_KEY.test(k) && !fromEnv.has(p.join('.'))) out.push(p.join('.'));
    else if (typeof v === 'object') collectLiteralSecrets(v, p, fromEnv, out);
  }
}

/** The DI token of the LoadedConfig. */
export const ConfigToken = token<LoadedConfig>('Config');
