/**
 * Kafka's ExponentialBackoff (clients/src/main/java/org/apache/kafka/common/utils/
 * ExponentialBackoff.java), used since KIP-580 for retry.backoff.ms / retry.backoff.max.ms and
 * reconnect.backoff.ms / reconnect.backoff.max.ms: initial × 2^attempts, capped at the max, times a
 * random factor in [1 - jitter, 1 + jitter). The draw comes from a seeded stream instead of
 * ThreadLocalRandom.
 */
import type { Random } from '../../../engine/random.js';

/** CommonClientConfigs.RETRY_BACKOFF_EXP_BASE and RETRY_BACKOFF_JITTER. */
export const BACKOFF_MULTIPLIER = 2;
export const BACKOFF_JITTER = 0.2;

export class ExponentialBackoff {
  private readonly initialIntervalMs: number;
  private readonly expMax: number;

  constructor(
    initialIntervalMs: number,
    private readonly maxIntervalMs: number,
    private readonly rng: Random,
    private readonly multiplier = BACKOFF_MULTIPLIER,
    private readonly jitter = BACKOFF_JITTER,
  ) {
    this.initialIntervalMs = Math.min(maxIntervalMs, initialIntervalMs);
    this.expMax = maxIntervalMs > initialIntervalMs ? Math.log(maxIntervalMs / Math.max(initialIntervalMs, 1)) / Math.log(multiplier) : 0;
  }

  /** The backoff after `attempts` failed attempts (0 for the first retry), in ms. */
  backoffMs(attempts: number): number {
    if (this.expMax === 0) return this.initialIntervalMs;
    const exp = Math.min(attempts, this.expMax);
    const term = this.initialIntervalMs * Math.pow(this.multiplier, exp);
    const randomFactor = this.jitter <= 0 ? 1 : this.rng.uniform(1 - this.jitter, 1 + this.jitter);
    const value = Math.floor(randomFactor * term);
    return value > this.maxIntervalMs ? this.maxIntervalMs : value;
  }
}
