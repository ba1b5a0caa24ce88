import type { CommandNode } from './registry.js';
import type { OptionSpec, ValueSpec } from './spec.js';

function valueHint(v: ValueSpec): string {
  if (v.type === 'enum' && v.choices && v.choices.length <= 6) return v.choices.join('|');
  return v.name;
}

function argUsage(a: ValueSpec): string {
  const inner = a.variadic || a.type === 'rest' ? `${valueHint(a)}...` : valueHint(a);
  return a.required === false || a.default !== undefined ? `[${inner}]` : `<${inner}>`;
}

function optionUsage(o: OptionSpec): string {
  const flag = o.short ? `-${o.short}|--${o.name}` : `--${o.name}`;
  return o.type === 'boolean'
    ? `[${flag}]`
    : o.required
      ? `${flag} <${valueHint(o)}>`
      : `[${flag} <${valueHint(o)}>]`;
}

/** `alerts silence add <matchers...> <duration> [--comment <comment>]` */
export function usageLine(node: CommandNode): string {
  const parts = [node.path];
  if (node.children.size && !node.spec.handler) parts.push(`<${[...node.children.keys()].join('|')}>`);
  for (const a of node.spec.args ?? []) parts.push(argUsage(a));
  for (const o of node.spec.options ?? []) parts.push(optionUsage(o));
  if (node.spec.confirm) parts.push('[--yes]');
  return parts.join(' ');
}
