import { type Card, card } from '../../cards/card.js';
import type { I18n, Locale } from '../../i18n/i18n.js';
import type { Conversation } from '../../messages/inbound.js';
import { token } from '../../util/di-token.js';
import type { AccessControl } from '../access-control.js';
import type { CommandNode, CommandRegistry } from './registry.js';
import type { Caller, OptionSpec, ValueSpec } from './spec.js';
import { usageLine } from './usage.js';

/** Builds help from the same specs the parser uses, showing only what the caller may run here. */
export class HelpBuilder {
  constructor(
    private readonly registry: CommandRegistry,
    private readonly access: AccessControl,
    private readonly i18n: I18n,
  ) {}

  permitted(caller: Caller, conversation: Conversation): CommandNode[] {
    return this.registry.all().filter((n) => !n.spec.hidden && this.may(caller, conversation, n));
  }

  may(caller: Caller, conversation: Conversation, node: CommandNode): boolean {
    return this.access.check(caller, conversation, node.path, node.spec).allowed;
  }

  overview(caller: Caller, conversation: Conversation, locale: Locale): Card {
    const t = (k: string, v?: Record<string, unknown>) => this.i18n.t(k, v, locale);
    const byOwner = new Map<string, string[]>();
    for (const node of this.registry.topLevel()) {
      if (node.spec.hidden) continue;
      const visible = [node, ...descendants(node)].filter(
        (n) => this.may(caller, conversation, n) && (n.spec.handler || n === node),
      );
      if (!visible.some((n) => n.spec.handler) || !this.may(caller, conversation, node)) continue;
      const lines = byOwner.get(node.owner) ?? [];
      lines.push(`\`${node.path}\` — ${this.i18n.text(node.spec.description, locale)}`);
      byOwner.set(node.owner, lines);
    }
    const owners = [...byOwner.keys()].sort((a, b) =>
      a === 'core' ? -1 : b === 'core' ? 1 : a.localeCompare(b),
    );
    return card({
      title: t('help.title'),
      status: 'info',
      sections: owners.map((o) => ({
        title: o === 'core' ? t('help.coreGroup') : o,
        items: byOwner.get(o) ?? [],
      })),
      footer: t('help.footer'),
    });
  }

  command(node: CommandNode, caller: Caller, conversation: Conversation, locale: Locale): Card {
    const t = (k: string, v?: Record<string, unknown>) => this.i18n.t(k, v, locale);
    const spec = node.spec;
    const fields = [{ label: t('help.usage'), value: `\`${usageLine(node)}\`` }];
    if (spec.aliases?.length) fields.push({ label: t('help.aliases'), value: spec.aliases.join(', ') });
    if (spec.roles?.length) fields.push({ label: t('help.roles'), value: spec.roles.join(', ') });
    if (spec.allowIn?.length === 1)
      fields.push({ label: t('help.where'), value: t(`help.only.${spec.allowIn[0]}`) });
    const sections = [];
    const describe = (label: string, v: { description?: unknown; default?: unknown }) =>
      `\`${label}\` ${this.i18n.text(v.description as never, locale)}${v.default !== undefined ? ` (${t('help.default')}: ${String(v.default)})` : ''}`;
    const params = [
      ...((spec.args ?? []) as ValueSpec[]).filter((a) => a.description).map((a) => describe(a.name, a)),
      ...((spec.options ?? []) as OptionSpec[])
        .filter((o) => o.description)
        .map((o) => describe(`--${o.name}`, o)),
    ];
    if (params.length) sections.push({ title: t('help.params'), items: params });
    const subs = [...node.children.values()].filter(
      (c) => !c.spec.hidden && this.may(caller, conversation, c),
    );
    if (subs.length)
      sections.push({
        title: t('help.subcommands'),
        items: subs.map((c) => `\`${c.path}\` — ${this.i18n.text(c.spec.description, locale)}`),
      });
    if (spec.examples?.length)
      sections.push({ title: t('help.examples'), items: spec.examples.map((e) => `\`${e}\``) });
    return card({
      title: node.path,
      status: 'info',
      body: this.i18n.text(spec.description, locale),
      fields,
      sections,
    });
  }
}

function descendants(node: CommandNode): CommandNode[] {
  return [...node.children.values()].flatMap((c) => [c, ...descendants(c)]);
}

/** The DI token of the HelpBuilder. */
export const HelpToken = token<HelpBuilder>('Help');
