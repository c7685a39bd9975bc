/**
 * Simulated time. The clock counts integer microseconds from the start of a run, so every
 * timestamp is exact (no floating-point drift) and orders identically on every machine.
 */

/** A point on the virtual clock, in integer microseconds since the run began. */
export type TimeUs = number;
/** A span of virtual time, in integer microseconds. */
export type DurationUs = number;

export const US_PER_MS = 1_000;
export const US_PER_S = 1_000_000;

/**
 * The latest representable instant. Times are kept below 2^53 so they stay exact integers;
 * that is about 285 simulated years.
 */
export const MAX_TIME_US: TimeUs = Number.MAX_SAFE_INTEGER;

/** Milliseconds (Kafka's config unit) to microseconds, rounded to the nearest microsecond. */
export function msToUs(ms: number): DurationUs {
  return Math.round(ms * US_PER_MS);
}

/** Seconds to microseconds, rounded to the nearest microsecond. */
export function sToUs(s: number): DurationUs {
  return Math.round(s * US_PER_S);
}

/** Microseconds to (fractional) milliseconds, for display and for Kafka-facing values. */
export function usToMs(us: DurationUs): number {
  return us / US_PER_MS;
}

/** `12.004s`, `350ms` or `17us`: a compact label for logs and reports. */
export function formatTimeUs(us: TimeUs): string {
  if (us >= US_PER_S) return `${(us / US_PER_S).toFixed(3)}s`;
  if (us >= US_PER_MS) return `${(us / US_PER_MS).toFixed(3).replace(/\.?0+$/, '')}ms`;
  return `${us}us`;
}
