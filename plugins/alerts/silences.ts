import type { Kysely } from 'kysely';
import { type Matcher, matchesAll, parseMatcher } from './matchers.js';

export interface Silence {
  id: number;
  matchers: Matcher[];
  text: string[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

/** Silences: label matchers that mute notifications until they end (the incident is still tracked). */
export class Silences {
  constructor(
    private readonly db: Kysely<any>,
    private readonly now: () => number = Date.now,
  ) {}

  async add(matchers: string[], durationMs: number, createdBy: string, comment: string): Promise<Silence> {
    const parsed = matchers.map(parseMatcher);
    const now = this.now();
    const r = await this.db
      .insertInto('alerts_silence')
      .values({
        matchers: JSON.stringify(matchers),
        starts_at: now,
        ends_at: now + durationMs,
        created_by: createdBy,
        comment,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return {
      id: Number(r.id),
      matchers: parsed,
      text: matchers,
      startsAt: now,
      endsAt: now + durationMs,
      createdBy,
      comment,
    };
  }

  async active(): Promise<Silence[]> {
    const rows = await this.db
      .selectFrom('alerts_silence')
      .selectAll()
      .where('ends_at', '>', this.now())
      .orderBy('id')
      .execute();
    return rows.map((r) => {
      const text = JSON.parse(r.matchers) as string[];
      return {
        id: Number(r.id),
        matchers: text.map(parseMatcher),
        text,
        startsAt: Number(r.starts_at),
        endsAt: Number(r.ends_at),
        createdBy: r.created_by,
        comment: r.comment,
      };
    });
  }

  /** Ends a silence now; false when there is no active silence with that id. */
  async remove(id: number): Promise<boolean> {
    const r = await this.db
      .updateTable('alerts_silence')
      .set({ ends_at: this.now() })
      .where('id', '=', id)
      .where('ends_at', '>', this.now())
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The active silence that mutes these labels, if any. */
  static muting(silences: Silence[], labels: Record<string, string>): Silence | undefined {
    return silences.find((s) => matchesAll(s.matchers, labels));
  }
}
