import type { AccessConfig } from '../config/core-schema.js';
import type { Conversation } from '../messages/inbound.js';
import { token } from '../util/di-token.js';
import type { Caller, ConversationKind } from './commands/spec.js';

export const ADMIN_ROLE = 'admin';

/** What a command or card action declares about who may run it and where. */
export interface AccessRule {
  roles?: readonly string[];
  allowIn?: readonly ConversationKind[];
}

export type DenyReason = 'role' | 'directOnly' | 'groupOnly' | 'conversation' | 'user';

export type AccessDecision =
  | { allowed: true }
  | { allowed: false; reason: DenyReason; vars: Record<string, unknown> };

const ALLOW: AccessDecision = { allowed: true };

/**
 * One permission check for typed commands and card button actions alike.
 * Order: where it may run (direct/group, per-conversation lists), then who (per-command
 * rule from config if any, else the command's own roles). Admins pass the "who" part
 * but not the "where" part: a DM-only command stays out of groups for everyone.
 */
export class AccessControl {
  private readonly roles = new Map<string, Set<string>>();
  private readonly admins: Set<string>;
  private readonly hasCommandRules: boolean;

  constructor(private readonly config: AccessConfig) {
    this.admins = new Set(config.admins);
    this.hasCommandRules = Object.keys(config.commands).length > 0;
    for (const [role, users] of Object.entries(config.roles)) for (const u of users) this.grant(u, role);
    for (const a of this.admins) this.grant(a, ADMIN_ROLE);
  }

  private grant(userId: string, role: string): void {
    const set = this.roles.get(userId) ?? new Set<string>();
    set.add(role);
    this.roles.set(userId, set);
  }

  private static readonly NO_ROLES: ReadonlySet<string> = new Set();

  caller(userId: string, nick: string): Caller {
    return {
      userId,
      nick,
      roles: this.roles.get(userId) ?? AccessControl.NO_ROLES,
      isAdmin: this.admins.has(userId),
    };
  }

  get adminIds(): readonly string[] {
    return [...this.admins];
  }

  check(caller: Caller, conversation: Conversation, path: string, rule: AccessRule): AccessDecision {
    const configured = this.ruleFor(path);
    const direct = configured?.direct ?? (rule.allowIn ? rule.allowIn.includes('direct') : true);
    const group = configured?.group ?? (rule.allowIn ? rule.allowIn.includes('group') : true);
    if (conversation.type === 'direct' && !direct)
      return { allowed: false, reason: 'groupOnly', vars: { command: path } };
    if (conversation.type === 'group' && !group)
      return { allowed: false, reason: 'directOnly', vars: { command: path } };

    if (
      configured?.conversations &&
      conversation.type === 'group' &&
      !configured.conversations.includes(conversation.id)
    ) {
      return { allowed: false, reason: 'conversation', vars: { command: path } };
    }
    const conv = this.config.conversations[conversation.id];
    if (conv) {
      if (conv.deny?.some((p) => matchesPath(path, p)))
        return { allowed: false, reason: 'conversation', vars: { command: path } };
      if (conv.allow && !conv.allow.some((p) => matchesPath(path, p)))
        return { allowed: false, reason: 'conversation', vars: { command: path } };
    }

    if (caller.isAdmin) return ALLOW;
    if (configured && (configured.roles || configured.users)) {
      if (configured.users?.includes(caller.userId)) return ALLOW;
      if (configured.roles?.some((r) => caller.roles.has(r))) return ALLOW;
      return {
        allowed: false,
        reason: configured.roles ? 'role' : 'user',
        vars: { command: path, roles: (configured.roles ?? []).join(', ') },
      };
    }
    if (rule.roles?.length && !rule.roles.some((r) => caller.roles.has(r))) {
      return { allowed: false, reason: 'role', vars: { command: path, roles: rule.roles.join(', ') } };
    }
    return ALLOW;
  }

  /** The most specific configured rule: `alerts silence add`, then `alerts silence`, then `alerts`. */
  private ruleFor(path: string): AccessConfig['commands'][string] | undefined {
    const rules = this.config.commands;
    if (!this.hasCommandRules) return undefined;
    let p = path;
    for (;;) {
      const r = rules[p];
      if (r) return r;
      const cut = p.lastIndexOf(' ');
      if (cut < 0) return undefined;
      p = p.slice(0, cut);
    }
  }
}

/** `alerts silence add` matches `alerts` and `alerts silence`, not `alert`. */
export function matchesPath(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix} `) || prefix === '*';
}

/** The DI token of the AccessControl. */
export const AccessToken = token<AccessControl>('Access');
