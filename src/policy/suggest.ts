// "Did you mean ...?": the closest known name to a misspelt one, by edit distance. Used by the
// strict checks (lint.ts) for variables, entity methods, statistics and controls.

/**
 * Optimal-string-alignment distance (Damerau–Levenshtein without re-editing a transposed pair):
 * inserting, deleting or replacing a character, or swapping two adjacent ones, costs 1.
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] as number) + 1);
      }
      cur.push(d);
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * The known name closest to `name`, when it is close enough to be a slip of the keyboard: none
 * for names of 1 or 2 characters (any other short name is as close), one edit up to 4
 * characters, two up to 8, three beyond; a difference of case alone always counts. Ties go to
 * the earlier candidate. undefined when none is close.
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = name.length <= 2 ? 0 : name.length <= 4 ? 1 : name.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === name) continue;
    const caseOnly = c.toLowerCase() === name.toLowerCase();
    const d = caseOnly ? 0.5 : editDistance(name, c);
    if ((caseOnly || d <= limit) && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** `; did you mean 'x'?` for the closest candidate, or `fallback` when none is close. */
export function didYouMean(name: string, candidates: Iterable<string>, fallback = '.'): string {
  const c = closest(name, candidates);
  return c === undefined ? fallback : `; did you mean '${c}'?`;
}
