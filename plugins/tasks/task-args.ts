import { formatDuration, UserError } from 'dingops';
import { type ParamSpec, PROTECTED_ENV, type TaskConfig } from './config.js';

/** Control characters (newlines included) never reach a program through a parameter. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** A `..` path segment: a parameter cannot climb out of where the task expects it. */
const TRAVERSAL = /(^|[\\/])\.\.([\\/]|$)/;

/**
 * The second line of defence after the command parser (which checked types, ranges,
 * choices and patterns): every string value is refused when it carries control characters,
 * a `..` segment, or (unless the param allows it) a leading `-` that a program would take
 * as an option. Returns the values as the strings that go into argv.
 */
export function checkValues(
  task: TaskConfig,
  values: Record<string, unknown>,
): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [name, spec] of Object.entries(task.params)) {
    const v = values[name];
    if (v === undefined || v === null) throw new UserError('tasks.missingParam', { name });
    if (spec.type === 'boolean') {
      out[name] = v === true;
      continue;
    }
    const text = spec.type === 'duration' ? formatDuration(Number(v)) : String(v);
    if (CONTROL.test(text)) throw new UserError('tasks.badValue', { name, why: 'control characters' });
    if (TRAVERSAL.test(text)) throw new UserError('tasks.badValue', { name, why: '“..” path segments' });
    // Ints are checked where they land: `--offset={n}` may take -1, `kill {pid}` may not.
    if (text.startsWith('-') && spec.type !== 'int' && !mayLeadWithDash(spec))
      throw new UserError('tasks.badValue', { name, why: 'a leading “-”' });
    out[name] = text;
  }
  // Values that pass alone can still combine into something refused: `{a}{b}` with `.` and `.`.
  buildArgv(task, out);
  return out;
}

/**
 * A value may start with `-` only where the task says so: a string param with
 * `allowLeadingDash`, or an int param whose declared `min` is negative. Anywhere else a
 * leading `-` would reach the program as an option (`kill {pid}` with `-1`).
 */
function mayLeadWithDash(spec: ParamSpec): boolean {
  if (spec.type === 'string') return spec.allowLeadingDash;
  if (spec.type === 'int') return spec.min !== undefined && spec.min < 0;
  return false;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Checks one argv element after its placeholders were filled in: it may not gain a `..`
 * segment or a leading `-` that the task's own text did not have. Throws the refusal,
 * naming the params that made it.
 */
function checkElement(task: TaskConfig, template: string, element: string): void {
  const names = [...template.matchAll(PLACEHOLDER)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));
  if (!names.length) return;
  const name = names.join(', ');
  if (CONTROL.test(element)) throw new UserError('tasks.badValue', { name, why: 'control characters' });
  if (TRAVERSAL.test(element) && !TRAVERSAL.test(template))
    throw new UserError('tasks.badValue', { name, why: '“..” path segments' });
  if (element.startsWith('-') && !template.startsWith('-')) {
    const first = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(template)?.[1];
    const spec = first ? task.params[first] : undefined;
    if (!spec || !mayLeadWithDash(spec))
      throw new UserError('tasks.badValue', { name, why: 'a leading “-”' });
  }
}

/** The argv of a run: placeholders replaced inside their element, booleans as their flag or nothing. */
export function buildArgv(task: TaskConfig, values: Record<string, string | boolean>): string[] {
  const argv: string[] = [];
  for (const element of task.command) {
    const alone = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(element)?.[1];
    const spec = alone === undefined ? undefined : task.params[alone];
    if (alone !== undefined && spec?.type === 'boolean') {
      if (values[alone] === true) argv.push(spec.flag);
      continue;
    }
    const filled = element.replace(PLACEHOLDER, (m: string, name: string) =>
      name in values ? String(values[name]) : m,
    );
    checkElement(task, element, filled);
    argv.push(filled);
  }
  return argv;
}

/**
 * The child's whole environment: the task's PATH, the allowed variables from the bot's
 * environment, the configured values. Nothing else of the bot's environment (its secrets)
 * goes to the child.
 */
export function buildEnv(task: TaskConfig, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: task.path, LANG: parent.LANG ?? 'C.UTF-8' };
  for (const name of task.env.allow) {
    const v = parent[name];
    if (v !== undefined && !PROTECTED_ENV.test(name)) env[name] = v;
  }
  for (const [name, v] of Object.entries(task.env.set)) if (!PROTECTED_ENV.test(name)) env[name] = v;
  return env;
}

/** The values to hide from a run's output: configured ones, secret environment values, secret params. */
export function secretValues(
  task: TaskConfig,
  env: Record<string, string>,
  params: Record<string, string | boolean> = {},
): string[] {
  return [
    ...task.redact,
    ...task.env.secret.map((n) => env[n]).filter((v): v is string => !!v),
    ...secretParams(task)
      .map((n) => params[n])
      .filter((v): v is string => typeof v === 'string' && !!v),
  ];
}

function secretParams(task: TaskConfig | undefined): string[] {
  return Object.entries(task?.params ?? {})
    .filter(([, p]) => p.type !== 'boolean' && p.secret)
    .map(([n]) => n);
}

/** The params as they may be shown (cards, `task` views, history, audit): secret ones as `***`. */
export function shownParams(
  task: TaskConfig | undefined,
  params: Record<string, string | boolean>,
): Record<string, string | boolean> {
  const secret = secretParams(task);
  if (!secret.length) return params;
  const out = { ...params };
  for (const n of secret) if (n in out) out[n] = '***';
  return out;
}

/** Usage line: `run <task> <a> [b] [--flag]`. */
export function usage(name: string, task: TaskConfig): string {
  if (task.kind === 'agent') return `run ${name} <prompt>`;
  const parts = Object.entries(task.params).map(([n, p]: [string, ParamSpec]) => {
    if (p.type === 'boolean') return `[--${n}]`;
    const shape = p.type === 'enum' ? p.choices.join('|') : n;
    return p.default !== undefined ? `[${shape}]` : `<${shape}>`;
  });
  return [`run ${name}`, ...parts].join(' ');
}
