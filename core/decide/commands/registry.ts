import { token } from '../../util/di-token.js';
import { didYouMean } from '../../util/did-you-mean.js';
import type { Disposer } from '../../util/disposer.js';
import type { AnyCommandSpec } from './spec.js';
import type { Token } from './tokenize.js';

/** A registered command with where it came from and its full path. */
export interface CommandNode {
  spec: AnyCommandSpec;
  /** Owning plugin (`core` for built-ins); help groups by it. */
  owner: string;
  /** `alerts silence add` */
  path: string;
  parent?: CommandNode;
  children: Map<string, CommandNode>;
  /** Primary names and aliases of children, lower-case. */
  childIndex: Map<string, CommandNode>;
}

export interface Resolution {
  node: CommandNode;
  /** Tokens left after the command path. */
  rest: Token[];
}

export class CommandConflictError extends Error {}

/** The command tree: top-level names and aliases, each with nested subcommands. */
export class CommandRegistry {
  private readonly roots = new Map<string, CommandNode>();
  private readonly index = new Map<string, CommandNode>();

  /** Adds a top-level command (with its subcommands); the disposer removes it again. */
  register(spec: AnyCommandSpec, owner: string): Disposer {
    const node = this.build(spec, owner);
    for (const name of [spec.name, ...(spec.aliases ?? [])].map((n) => n.toLowerCase())) {
      const existing = this.index.get(name);
      if (existing) {
        throw new CommandConflictError(
          `command '${name}' of ${owner} is already registered by ${existing.owner} ('${existing.path}')`,
        );
      }
    }
    this.roots.set(spec.name.toLowerCase(), node);
    for (const name of [spec.name, ...(spec.aliases ?? [])]) this.index.set(name.toLowerCase(), node);
    return () => {
      for (const [name, n] of [...this.index]) if (n === node) this.index.delete(name);
      for (const [name, n] of [...this.roots]) if (n === node) this.roots.delete(name);
    };
  }

  private build(spec: AnyCommandSpec, owner: string, parent?: CommandNode): CommandNode {
    if (!/^[a-z][a-z0-9-]*$/i.test(spec.name))
      throw new CommandConflictError(`invalid command name '${spec.name}' (letters, digits, -)`);
    const node: CommandNode = {
      spec,
      owner,
      path: parent ? `${parent.path} ${spec.name}` : spec.name,
      parent,
      children: new Map(),
      childIndex: new Map(),
    };
    for (const sub of spec.subcommands ?? []) {
      const child = this.build(sub, owner, node);
      node.children.set(sub.name.toLowerCase(), child);
      for (const n of [sub.name, ...(sub.aliases ?? [])]) node.childIndex.set(n.toLowerCase(), child);
    }
    return node;
  }

  /** Finds the deepest command named by the leading tokens. */
  resolve(tokens: Token[]): Resolution | undefined {
    const first = tokens[0];
    if (!first || first.quoted) return undefined;
    let node = this.index.get(first.value.toLowerCase());
    if (!node) return undefined;
    let i = 1;
    while (i < tokens.length && node.childIndex.size) {
      const t = tokens[i];
      if (!t || t.quoted) break;
      const child: CommandNode | undefined = node.childIndex.get(t.value.toLowerCase());
      if (!child) break;
      node = child;
      i++;
    }
    return { node, rest: tokens.slice(i) };
  }

  get(path: string): CommandNode | undefined {
    const parts = path.toLowerCase().split(/\s+/);
    let node = this.index.get(parts[0] ?? '');
    for (const p of parts.slice(1)) node = node?.childIndex.get(p);
    return node;
  }

  /** Every runnable command, depth-first. */
  all(): CommandNode[] {
    const out: CommandNode[] = [];
    const walk = (n: CommandNode) => {
      out.push(n);
      for (const c of n.children.values()) walk(c);
    };
    for (const r of this.roots.values()) walk(r);
    return out;
  }

  topLevel(): CommandNode[] {
    return [...this.roots.values()];
  }

  suggest(word: string, among: CommandNode[]): string[] {
    const names = among.flatMap((n) => [n.spec.name, ...(n.spec.aliases ?? [])]);
    return didYouMean(word, names, 3);
  }
}

/** The DI token of the CommandRegistry. */
export const CommandsToken = token<CommandRegistry>('Commands');
