import type { OutboundContent } from '../../cards/card.js';
import type { SendOptions, SendReceipt } from '../../deliver/messenger.js';
import type { Locale } from '../../i18n/i18n.js';
import type { CardAction } from '../../messages/inbound.js';
import type { ActionResult } from '../../messages/outbound.js';
import { token } from '../../util/di-token.js';
import type { Disposer } from '../../util/disposer.js';
import type { Caller, ConversationKind } from '../commands/spec.js';

export interface ActionContext {
  action: CardAction;
  params: Record<string, string>;
  caller: Caller;
  locale: Locale;
  t: (key: string, vars?: Record<string, unknown>) => string;
  /** Posts a message in the card's conversation (or to the clicking user when there is none). */
  reply(content: OutboundContent, options?: SendOptions): Promise<SendReceipt>;
}

/** What clicking did: the card as it should now look for everyone, and/or a toast-like note. */
export interface ActionSpec {
  /** Local name; the full id is `<plugin>.<name>`. */
  name: string;
  /**
   * The command path this button stands for (e.g. `ack`). Config rules for that command
   * (`access.commands`) then apply to the button too, so typing and clicking are governed alike.
   */
  command?: string;
  roles?: readonly string[];
  allowIn?: readonly ConversationKind[];
  handler: (ctx: ActionContext) => ActionResult | undefined | void | Promise<ActionResult | undefined | void>;
}

export interface ActionEntry {
  id: string;
  owner: string;
  spec: ActionSpec;
}

export class ActionRegistry {
  private readonly actions = new Map<string, ActionEntry>();

  /** Adds `<owner>.<name>`: its id (what buttons carry) and the disposer that removes it. */
  register(owner: string, spec: ActionSpec): { id: string; dispose: Disposer } {
    if (!/^[a-z][a-z0-9-]*$/i.test(spec.name)) throw new Error(`invalid action name '${spec.name}'`);
    const id = `${owner}.${spec.name}`;
    if (this.actions.has(id)) throw new Error(`card action '${id}' is already registered`);
    const entry = { id, owner, spec };
    this.actions.set(id, entry);
    return {
      id,
      dispose: () => {
        if (this.actions.get(id) === entry) this.actions.delete(id);
      },
    };
  }

  get(id: string): ActionEntry | undefined {
    return this.actions.get(id);
  }
}

/** The DI token of the ActionRegistry. */
export const ActionsToken = token<ActionRegistry>('Actions');
