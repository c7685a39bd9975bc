/**
 * Errors raised by the engine when it is misused. They are programming errors in a model or a
 * harness (scheduling in the past, a NaN delay), so they throw at once, at the call that is wrong,
 * instead of surfacing later as a mysterious trace divergence.
 */
export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

/**
 * An invariant of the model itself was broken. Models state their invariants with `invariant()`
 * (TigerBeetle style) so a property search stops where a broken state first appears.
 */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** Throws a SimulationError unless `value` is a finite integer number of microseconds ≥ 0. */
export function checkDurationUs(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SimulationError(`${what} must be a non-negative integer number of microseconds, got ${String(value)}`);
  }
}
