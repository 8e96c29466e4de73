// A bounded ring of the newest items, oldest first: the API's histories (host samples, decisions,
// errors) keep a fixed amount of memory however long momd runs.
export class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be >= 1');
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  get length(): number {
    return this.items.length;
  }

  /** The newest `limit` items (all by default), oldest first. */
  list(limit = this.items.length): T[] {
    const ordered = [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
    return limit >= ordered.length ? ordered : ordered.slice(ordered.length - Math.max(0, limit));
  }

  latest(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items[(this.start + this.items.length - 1) % this.items.length];
  }
}
