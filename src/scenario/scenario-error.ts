/**
 * Bad input in a scenario: a file that cannot be read or parsed, or a value the schema refuses.
 * The CLI prints `message` as it is (one line per problem) and exits with code 2; it never
 * shows a stack trace for these.
 */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    /** Every problem found, each naming the file, the path inside it, and what was expected. */
    readonly problems: readonly string[],
  ) {
    super(problems.join('\n'));
  }
}

/** `cluster.brokers`, `faults[2].at`: a path inside a document, as users read it. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = shorten(String(part));
      // Kafka config keys have dots (min.insync.replicas): shown as written, not quoted.
      const plain = /^[A-Za-z_][\w.-]*$/.test(key);
      out += plain ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(top level)' : out;
}

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** Long keys and values are cut in messages, so one bad input cannot flood the terminal. */
export function shorten(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
