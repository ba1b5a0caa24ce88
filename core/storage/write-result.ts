/** What a write did: rows changed, and the rows a `returning` gave back. */
export interface WriteResult {
  numAffectedRows: number;
  rows: Array<Record<string, unknown>>;
}
