import type { DurationUs } from '../engine/time.js';

const UNIT_US: Record<string, number> = { us: 1, ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };

/**
 * Parses a scenario duration: a number with a unit, `250us`, `500ms`, `30s`, `2m` or `1h`
 * (decimals allowed: `1.5s`). Bare numbers are refused, because `30` could mean seconds or
 * milliseconds; Kafka config values, whose unit is in their name, are numbers instead.
 * Returns whole microseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): DurationUs | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)\s*$/.exec(text);
  if (m === null) return undefined;
  const us = Math.round(Number(m[1]) * UNIT_US[m[2]]);
  return Number.isSafeInteger(us) ? us : undefined;
}

/** `12.5s`, `350ms`, `2m`: the shortest exact spelling of a duration. */
export function formatDuration(us: DurationUs): string {
  if (us % 3_600_000_000 === 0 && us > 0) return `${us / 3_600_000_000}h`;
  if (us % 60_000_000 === 0 && us > 0) return `${us / 60_000_000}m`;
  if (us % 1_000 === 0 && us >= 1_000_000) return `${us / 1_000_000}s`;
  if (us % 1_000 === 0) return `${us / 1_000}ms`;
  return `${us}us`;
}
