import { SimulationError } from '../engine/errors.js';
import type { Random } from '../engine/random.js';
import type { DurationUs } from '../engine/time.js';

/**
 * A latency distribution, as scenario files spell it (milliseconds, Kafka's unit). Used for
 * network links and disk operations.
 */
export type LatencySpec =
  | { distribution: 'constant'; ms: number }
  | { distribution: 'uniform'; minMs: number; maxMs: number }
  | { distribution: 'exponential'; meanMs: number; minMs?: number }
  | { distribution: 'normal'; meanMs: number; stdDevMs: number; minMs?: number }
  | { distribution: 'lognormal'; medianMs: number; sigma: number; minMs?: number }
  | { distribution: 'pareto'; scaleMs: number; shape: number };

/**
 * A compiled latency distribution. Samples are whole microseconds, never negative; `minMs`
 * is a floor (a link's propagation delay) under the random part.
 */
export class LatencyModel {
  private constructor(
    private readonly kind: number,
    private readonly a: number,
    private readonly b: number,
    private readonly floorUs: number,
    readonly spec: LatencySpec,
  ) {}

  static constant(ms: number): LatencyModel {
    return LatencyModel.from({ distribution: 'constant', ms });
  }

  /** Validates `spec` and compiles it. Throws a SimulationError naming the bad field. */
  static from(input: LatencySpec): LatencyModel {
    // A private frozen copy: a caller mutating its object later must not desynchronise `spec`.
    const spec = input !== null && typeof input === 'object' ? (Object.freeze({ ...input }) as LatencySpec) : input;
    const field = (name: string, value: unknown, positive = false): number => {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
        throw new SimulationError(
          `latency ${name} must be a ${positive ? 'positive' : 'non-negative'} finite number, got ${String(value)}`,
        );
      }
      return value;
    };
    const floor = (s: { minMs?: number }) => (s.minMs === undefined ? 0 : Math.round(field('minMs', s.minMs) * 1000));
    if (spec === null || typeof spec !== 'object') throw new SimulationError(`latency must be an object, got ${String(spec)}`);
    switch (spec.distribution) {
      case 'constant':
        return new LatencyModel(0, field('ms', spec.ms) * 1000, 0, 0, spec);
      case 'uniform': {
        const lo = field('minMs', spec.minMs);
        const hi = field('maxMs', spec.maxMs);
        if (hi < lo) throw new SimulationError(`latency maxMs (${hi}) must be ≥ minMs (${lo})`);
        return new LatencyModel(1, lo * 1000, hi * 1000, 0, spec);
      }
      case 'exponential':
        return new LatencyModel(2, field('meanMs', spec.meanMs) * 1000, 0, floor(spec), spec);
      case 'normal':
        return new LatencyModel(3, field('meanMs', spec.meanMs) * 1000, field('stdDevMs', spec.stdDevMs) * 1000, floor(spec), spec);
      case 'lognormal':
        return new LatencyModel(4, Math.log(field('medianMs', spec.medianMs, true) * 1000), field('sigma', spec.sigma), floor(spec), spec);
      case 'pareto':
        return new LatencyModel(5, field('scaleMs', spec.scaleMs, true) * 1000, field('shape', spec.shape, true), 0, spec);
      default:
        throw new SimulationError(
          `unknown latency distribution ${JSON.stringify((spec as { distribution?: unknown }).distribution)}; expected constant, uniform, exponential, normal, lognormal or pareto`,
        );
    }
  }

  /** One sample, in whole microseconds (≥ 0). */
  sampleUs(rng: Random): DurationUs {
    let us: number;
    switch (this.kind) {
      case 0:
        us = this.a;
        break;
      case 1:
        us = rng.uniform(this.a, this.b);
        break;
      case 2:
        us = rng.exponential(this.a);
        break;
      case 3:
        us = rng.normal(this.a, this.b);
        break;
      case 4:
        us = rng.logNormal(this.a, this.b);
        break;
      default:
        us = rng.pareto(this.a, this.b);
    }
    us = Math.round(us);
    if (!(us >= 0)) us = 0;
    // Cap at one simulated day: a pareto tail must not push an event past the end of time.
    if (us > 86_400_000_000) us = 86_400_000_000;
    return this.floorUs + us;
  }
}
