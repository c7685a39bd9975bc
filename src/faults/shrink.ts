import { faultAction, type FaultSpec } from './random-nemesis.js';

/**
 * Shrinks a failing fault schedule to a smaller one that still fails, by delta debugging
 * (Zeller's ddmin): drop halves, quarters, ... single faults while the run still fails; then
 * shorten what is left (halve each fault's duration); repeat until nothing
 * changes or the budget of runs is spent. Every candidate is judged by re-running the
 * deterministic simulation, so the result is the same on every machine and every `--workers`.
 */
export interface ShrinkResult {
  faults: FaultSpec[];
  /** Simulations run while shrinking. */
  runs: number;
  /** True when the budget ran out before a fixed point. */
  exhausted: boolean;
}

export interface ShrinkOptions {
  /** At most this many candidate runs (default 200). */
  maxRuns?: number;
  /** Stop early when this returns true (SIGINT). */
  aborted?: () => boolean;
}

/** The shortest duration a shrink step proposes for a timed fault. */
const MIN_FOR_US = 100_000;

export async function shrinkSchedule(faults: readonly FaultSpec[], stillFails: (candidate: FaultSpec[]) => Promise<boolean>, options: ShrinkOptions = {}): Promise<ShrinkResult> {
  const maxRuns = options.maxRuns ?? 200;
  let runs = 0;
  let current = [...faults];
  const tryCandidate = async (candidate: FaultSpec[]): Promise<boolean> => {
    if (runs >= maxRuns || options.aborted?.()) return false;
    runs++;
    if (await stillFails(candidate)) {
      current = candidate;
      return true;
    }
    return false;
  };
  const spent = () => runs >= maxRuns || (options.aborted?.() ?? false);

  for (let round = 0; round < 10 && !spent(); round++) {
    let changed = false;
    // 1. Remove chunks, from halves down to single faults.
    for (let chunk = Math.ceil(current.length / 2); chunk >= 1 && !spent(); ) {
      let removed = false;
      for (let i = 0; i < current.length && !spent(); i += chunk) {
        const candidate = [...current.slice(0, i), ...current.slice(i + chunk)];
        if (candidate.length === current.length) continue;
        if (await tryCandidate(candidate)) {
          removed = changed = true;
          i -= chunk; // the next chunk now starts here
        }
      }
      if (!removed) chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2);
      else chunk = Math.min(chunk, Math.ceil(current.length / 2));
      if (current.length === 0) break;
    }
    // 2. Shorten: halve each timed fault's duration while it still fails.
    for (let i = 0; i < current.length && !spent(); i++) {
      for (;;) {
        const f = current[i];
        if (f.for === undefined || f.for <= MIN_FOR_US || faultAction(f) === 'kill') break;
        const shorter = Math.max(MIN_FOR_US, Math.round(f.for / 2 / 1_000) * 1_000);
        if (!(await tryCandidate(replace(current, i, { ...f, for: shorter })))) break;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return { faults: current, runs, exhausted: spent() && !options.aborted?.() };
}

function replace(list: readonly FaultSpec[], i: number, f: FaultSpec): FaultSpec[] {
  const out = [...list];
  out[i] = f;
  return out;
}
