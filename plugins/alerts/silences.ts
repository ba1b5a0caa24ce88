import type { Kysely } from 'kysely';
import { formatMatcher, type Matcher, matcher, matchesAll, parseMatcher } from './matchers.js';
import type { AlertsTables } from './tables.js';

export interface Silence {
  id: number;
  matchers: Matcher[];
  /** The matchers as Alertmanager writes them (`name="value"`), for showing. */
  text: string[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

/** A matcher as stored: its parts, never text to parse again (a value stays a value). */
interface StoredMatcher {
  name: string;
  op: Matcher['op'];
  value: string;
}

/** The longest a silence may last (a longer one is refused, as a snooze longer than its bound is). */
export const MAX_SILENCE_MS = 30 * 86_400_000;
export const MIN_SILENCE_MS = 60_000;

/** Silences: label matchers that mute notifications until they end (the incident is still tracked). */
export class Silences {
  constructor(
    private readonly db: Kysely<AlertsTables>,
    private readonly now: () => number = Date.now,
  ) {}

  async add(matchers: Matcher[], durationMs: number, createdBy: string, comment: string): Promise<Silence> {
    const now = this.now();
    const stored: StoredMatcher[] = matchers.map(({ name, op, value }) => ({ name, op, value }));
    const r = await this.db
      .insertInto('alerts_silence')
      .values({
        matchers: JSON.stringify(stored),
        starts_at: now,
        ends_at: now + durationMs,
        created_by: createdBy,
        comment,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return {
      id: Number(r.id),
      matchers,
      text: matchers.map(formatMatcher),
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
      const matchers = (JSON.parse(r.matchers) as Array<string | StoredMatcher>).map(fromStored);
      return {
        id: Number(r.id),
        matchers,
        text: matchers.map(formatMatcher),
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

/** Rows written before matchers were stored by parts hold the text a person typed. */
function fromStored(m: string | StoredMatcher): Matcher {
  return typeof m === 'string' ? parseMatcher(m) : matcher(m.name, m.op, m.value);
}
