import type { Violation } from './violation.js';

/** A write the system acknowledged to its client. */
export interface AckedWrite {
  value: string;
  /** Where it was written (a broker, or later a partition). */
  location: string;
  ackedAtMs: number;
}

/**
 * `lost-write` (Jepsen's Kafka checker): an acknowledged write is absent from the log it was
 * acknowledged into, as read after every fault has healed. Values are unique, so absence is
 * unambiguous. `present` maps each location to the values its log holds at the end.
 */
export function checkLostWrites(acked: readonly AckedWrite[], present: ReadonlyMap<string, ReadonlySet<string>>): Violation[] {
  const out: Violation[] = [];
  for (const w of acked) {
    if (present.get(w.location)?.has(w.value)) continue;
    out.push({
      check: 'lost-write',
      atMs: w.ackedAtMs,
      message: `${w.value} was acknowledged at ${w.ackedAtMs.toFixed(3)} ms but is missing from ${w.location}'s log`,
      evidence: { value: w.value, location: w.location },
    });
  }
  return out;
}
