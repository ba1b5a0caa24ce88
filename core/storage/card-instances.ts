import { type Kysely, sql } from 'kysely';
import { token } from '../util/di-token.js';
import type { CoreTables } from './core-tables.js';
import type { Database } from './database.js';

/** Where a card was sent: a group or one person's chat with the bot. */
export type CardTarget = { type: 'group'; openConversationId: string } | { type: 'user'; userId: string };

export interface CardInstance {
  /** Sent as an interactive card (editable, streamable), else as markdown or an action card. */
  interactive: boolean;
  target: CardTarget;
}

/**
 * The cards the bot sent (the `card_instance` table): delivery records each one before it is
 * queued and edits or streams into it later; receiving looks up where a clicked card lives.
 */
export class CardInstances {
  private readonly db: Kysely<CoreTables>;

  constructor(
    private readonly store: Database,
    private readonly now: () => number = Date.now,
  ) {
    this.db = store.db;
  }

  /**
   * Committed before the message is queued, so a click always finds its card; a raw,
   * group-committed statement, since every card sent passes here. A card sent again under
   * the same idempotency key has the same id: recorded once.
   */
  async record(cardId: string, interactive: boolean, target: CardTarget): Promise<void> {
    await this.store.write(
      sql`insert into card_instance (card_id, interactive, destination, created_at) values (${cardId}, ${interactive ? 1 : 0}, ${JSON.stringify(target)}, ${this.now()}) on conflict (card_id) do nothing`.compile(
        this.db,
      ),
    );
  }

  async find(cardId: string): Promise<CardInstance | undefined> {
    const row = await this.db
      .selectFrom('card_instance')
      .select(['interactive', 'destination'])
      .where('card_id', '=', cardId)
      .executeTakeFirst();
    if (!row) return undefined;
    return { interactive: Number(row.interactive) === 1, target: JSON.parse(row.destination) as CardTarget };
  }

  /** The app may not send interactive cards: this one went out as markdown and cannot be edited. */
  async markNotInteractive(cardId: string): Promise<void> {
    await this.db
      .updateTable('card_instance')
      .set({ interactive: 0 })
      .where('card_id', '=', cardId)
      .execute();
  }
}

/** The DI token of the CardInstances repository. */
export const CardInstancesToken = token<CardInstances>('CardInstances');
