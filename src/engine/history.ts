// A bounded sample history (MOM's sample-history-length): the newest N samples, oldest first.
import type { Sample } from '../entities/entity.js';

export class History {
  private readonly samples: Sample[] = [];
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('history capacity must be >= 1');
  }
  push(sample: Sample): void {
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
  }
  /** A copy, oldest first, safe to hand to a snapshot. */
  list(): Sample[] {
    return [...this.samples];
  }
  get length(): number {
    return this.samples.length;
  }
  latest(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }
}
