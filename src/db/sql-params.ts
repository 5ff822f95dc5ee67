// Placeholders for one statement assembled from parts (an order's, the journal's, the outbox's), so
// that a purchase is one round trip instead of one per part: each value is added once and named by
// its position, and the parts never have to agree on numbering.
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder (`$n`). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
