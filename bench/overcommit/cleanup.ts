// What the benchmark has made and must undo, whatever happens: each step registers how to undo
// itself, and the steps are undone last first, once, on the normal path, on an error, or from a
// signal handler. Every undo step tolerates being run after the thing is already gone.

export class Cleanups {
  private readonly tasks: Array<{ name: string; undo: () => Promise<void> }> = [];

  /** Registers an undo step; the returned function runs it now (and forgets it). */
  add(name: string, undo: () => Promise<void>): () => Promise<void> {
    const task = { name, undo };
    this.tasks.push(task);
    return async () => {
      const i = this.tasks.indexOf(task);
      if (i < 0) return;
      this.tasks.splice(i, 1);
      await undo();
    };
  }

  /** Runs every registered step, last first; returns the failures as messages. */
  async runAll(): Promise<string[]> {
    const failures: string[] = [];
    while (this.tasks.length > 0) {
      const task = this.tasks.pop() as { name: string; undo: () => Promise<void> };
      try {
        await task.undo();
      } catch (err) {
        failures.push(`${task.name}: ${(err as Error).message}`);
      }
    }
    return failures;
  }
}
