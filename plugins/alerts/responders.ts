import { type Caller, PermissionDenied, type PluginContext } from 'dingops';
import type { AlertsConfig } from './config.js';

/** `responders: [everyone]` opens the changing commands to every member (doctor warns). */
export const EVERYONE = 'everyone';

/**
 * Who may change incidents and silences (ack, unack, resolve, snooze, silence, close a war
 * room): admins, the configured responders (`role:<name>`, people), and the people an
 * incident was sent to (its route's people, the escalation levels it reached, whoever
 * acknowledged it). Everyone else may look, not touch: a group member cannot mute every
 * alert with one `silence add alertname=~.* 1d`.
 */
export class ResponderPolicy {
  constructor(private readonly ctx: PluginContext<AlertsConfig>) {}

  get openToEveryone(): boolean {
    return this.ctx.config.responders.includes(EVERYONE);
  }

  /** Whether `who` may respond; `paged`: the incident's own responders (people refs). */
  allows(who: Caller, paged: readonly string[] = []): boolean {
    if (who.isAdmin || this.openToEveryone) return true;
    return [...this.ctx.config.responders, ...paged].some((ref) =>
      ref.startsWith('role:') ? who.roles.has(ref.slice(5)) : this.isPerson(ref, who.userId),
    );
  }

  /** Throws the refusal (audited as denied) unless `who` may respond. */
  check(who: Caller, paged: readonly string[] = []): void {
    if (!this.allows(who, paged))
      throw new PermissionDenied('alerts.notResponder', {
        responders: this.ctx.config.responders.join(', '),
      });
  }

  private isPerson(ref: string, userId: string): boolean {
    return ref === userId || this.ctx.people.find(ref)?.userId === userId;
  }
}
