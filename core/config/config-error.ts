import { isAbsolute, relative } from 'node:path';

/** One thing wrong with the configuration, located in the file. */
export interface ConfigProblem {
  /** Dotted path with [n] for list items, e.g. `plugins.alerts.routes[2].match`. */
  path: string;
  message: string;
  line?: number;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.path || '(root)'}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`;
}

/** Thrown when the configuration cannot be used; its message lists every problem. */
export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    readonly file?: string,
    /** What could still be read (plugin entries) when the core sections are invalid, so all problems can be reported at once. */
    readonly partial?: unknown,
  ) {
    super(
      `${file ? `${shownPath(file)}: ` : ''}invalid configuration\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/** A file as the operator named it: relative to where they are when it is below, else absolute. */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}
