import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The inbound message or event being handled, for the sends its handling makes. A message
 * handled again (the replica that accepted it died mid-handling; a crash before it was marked
 * handled) makes the same sends in the same order: each gets the key `<inbound id>/<ordinal>`,
 * and the outbox queues a key once, so the replies already queued are not queued again.
 */
interface Handling {
  id: string;
  sends: number;
}

const current = new AsyncLocalStorage<Handling>();

/** Runs `work` as the handling of inbound message or event `id`. */
export function handling<T>(id: string, work: () => Promise<T>): Promise<T> {
  return current.run({ id, sends: 0 }, work);
}

/** The idempotency key of the next send of the current handling; undefined outside one. */
export function nextSendKey(): string | undefined {
  const h = current.getStore();
  if (!h) return undefined;
  h.sends++;
  return `${h.id}/${h.sends}`;
}
