/** One line of `status`, `/readyz` and diagnostics. */
export interface StatusItem {
  name: string;
  ok: boolean;
  /** Short human text: "connected", "3 queued", ... */
  detail: string;
  /** Must be ok for /readyz. */
  critical?: boolean;
}

export type StatusProvider = () => StatusItem | StatusItem[] | Promise<StatusItem | StatusItem[]>;

/** Components (store, transport, outbox, plugins) report their state here. */
export class StatusBoard {
  private readonly providers = new Map<string, { owner: string; fn: StatusProvider }>();
  readonly startedAt = Date.now();

  register(owner: string, key: string, fn: StatusProvider): void {
    this.providers.set(`${owner}:${key}`, { owner, fn });
  }

  removeOwner(owner: string): void {
    for (const [k, p] of this.providers) if (p.owner === owner) this.providers.delete(k);
  }

  async collect(): Promise<StatusItem[]> {
    const out: StatusItem[] = [];
    for (const [key, { fn }] of this.providers) {
      try {
        const r = await fn();
        out.push(...(Array.isArray(r) ? r : [r]));
      } catch (err) {
        out.push({
          name: key,
          ok: false,
          detail: err instanceof Error ? err.message : String(err),
          critical: true,
        });
      }
    }
    return out;
  }
}
