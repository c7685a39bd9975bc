/**
 * What a scenario's `producers:` entry drives: a stream of sends at a rate (constant, Poisson, or
 * on/off bursts), with keys (none, uniform over N keys, or Zipf(s) over N keys for hot keys) and
 * value sizes (fixed or uniform). Every value is unique (`<prefix><sequence>`, padded to its
 * size), so the history checkers can tell records apart. Arrivals, keys and sizes draw from three
 * separate forks of the producer's random stream, so changing one does not move the others.
 */
import type { Random } from '../../../engine/random.js';
import type { ProducerRecord } from './send-handle.js';

export type RateSpec =
  /** One send every 1000 / perSec ms. */
  | { readonly kind: 'constant'; readonly perSec: number }
  /** Exponential inter-arrival times with mean 1000 / perSec ms. */
  | { readonly kind: 'poisson'; readonly perSec: number }
  /** `perSec` evenly spaced during `onMs`, then silence for `offMs`, repeating. */
  | { readonly kind: 'bursts'; readonly perSec: number; readonly onMs: number; readonly offMs: number };

export type KeySpec =
  | { readonly kind: 'none' }
  /** `key-0` … `key-(count-1)`, equally likely. */
  | { readonly kind: 'uniform'; readonly count: number }
  /** `key-0` … `key-(count-1)`, key k with probability ∝ 1 / (k + 1)^s: key-0 is the hottest. */
  | { readonly kind: 'zipf'; readonly count: number; readonly s: number };

export type ValueSizeSpec = { readonly kind: 'fixed'; readonly bytes: number } | { readonly kind: 'uniform'; readonly minBytes: number; readonly maxBytes: number };

export interface WorkloadSpec {
  readonly topic: string;
  readonly rate: RateSpec;
  /** Default: no keys (the sticky partitioner spreads records). */
  readonly keys?: KeySpec;
  /** Default: 16 bytes. A value is never shorter than its unique id. */
  readonly valueBytes?: ValueSizeSpec;
  /** Local ms after the producer starts; default 0. */
  readonly startMs?: number;
  /** Local ms after the producer starts when sends stop; default never. */
  readonly stopMs?: number;
  /** Default: unbounded. */
  readonly maxRecords?: number;
  /** Default: the producer node's name and the workload's index, as `producer-1/0:`. */
  readonly valuePrefix?: string;
}

export interface WorkloadHost {
  nowMs(): number;
  /** Schedules `onTimer()` of this workload after `delayMs`. */
  wakeAfter(delayMs: number): void;
  send(record: ProducerRecord): void;
}

const DEFAULT_VALUE_BYTES: ValueSizeSpec = { kind: 'fixed', bytes: 16 };
const MAX_ZIPF_KEYS = 1_000_000;

/** Zipf(s) over n ranks by inverse transform on the cumulative weights. */
/** Rounding slack at a burst's end (a nanosecond). */
const BURST_EDGE_MS = 1e-6;

export class ZipfDistribution {
  private readonly cumulative: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_ZIPF_KEYS) throw new RangeError(`zipf: count must be an integer in [1, ${MAX_ZIPF_KEYS}], got ${String(n)}`);
    if (!Number.isFinite(s) || s < 0) throw new RangeError(`zipf: s must be a finite number ≥ 0, got ${String(s)}`);
    this.cumulative = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, s);
      this.cumulative[k] = sum;
    }
  }

  /** A rank in [0, n), 0 the most likely, from a uniform draw u in [0, 1). */
  sample(u: number): number {
    const target = u * this.cumulative[this.n - 1];
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** P(rank = k). */
  probability(k: number): number {
    const before = k === 0 ? 0 : this.cumulative[k - 1];
    return (this.cumulative[k] - before) / this.cumulative[this.n - 1];
  }
}

export class ProducerWorkload {
  private sequence = 0;
  private readonly arrivals: Random;
  private readonly keyDraws: Random;
  private readonly sizeDraws: Random;
  private readonly zipf: ZipfDistribution | null;
  private startedAtMs = 0;
  private nextSendMs = 0;

  constructor(
    readonly spec: WorkloadSpec,
    private readonly host: WorkloadHost,
    rng: Random,
    private readonly defaultPrefix: string,
  ) {
    validateWorkload(spec);
    this.arrivals = rng.fork('arrivals');
    this.keyDraws = rng.fork('keys');
    this.sizeDraws = rng.fork('value-sizes');
    this.zipf = spec.keys?.kind === 'zipf' ? new ZipfDistribution(spec.keys.count, spec.keys.s) : null;
  }

  get sent(): number {
    return this.sequence;
  }

  start(): void {
    this.startedAtMs = this.host.nowMs();
    this.nextSendMs = this.startedAtMs + (this.spec.startMs ?? 0);
    if (this.spec.rate.kind === 'poisson') this.nextSendMs += this.arrivals.exponential(1000 / this.spec.rate.perSec);
    this.schedule();
  }

  onTimer(): void {
    const nowMs = this.host.nowMs();
    // Timers fire late after a pause: catch up on every arrival that is due, as a blocked
    // application would on resume.
    while (this.nextSendMs <= nowMs && !this.finished()) {
      this.host.send(this.nextRecord());
      this.nextSendMs = this.nextArrivalAfter(this.nextSendMs);
    }
    this.schedule();
  }

  private finished(): boolean {
    const stopMs = this.spec.stopMs;
    if (stopMs !== undefined && this.nextSendMs >= this.startedAtMs + stopMs) return true;
    return this.spec.maxRecords !== undefined && this.sequence >= this.spec.maxRecords;
  }

  private schedule(): void {
    if (this.finished()) return;
    this.host.wakeAfter(Math.max(0, this.nextSendMs - this.host.nowMs()));
  }

  private nextArrivalAfter(tMs: number): number {
    const rate = this.spec.rate;
    const intervalMs = 1000 / rate.perSec;
    switch (rate.kind) {
      case 'constant':
        return tMs + intervalMs;
      case 'poisson':
        return tMs + this.arrivals.exponential(intervalMs);
      case 'bursts': {
        const origin = this.startedAtMs + (this.spec.startMs ?? 0);
        const cycle = rate.onMs + rate.offMs;
        const next = tMs + intervalMs;
        const intoCycle = (next - origin) % cycle;
        // Sums of fractional intervals drift by ulps: a send that lands on the end of the burst
        // (100.00000000000001 ms into a 100 ms burst, or 99.99999999999999) belongs to the silence.
        return intoCycle < rate.onMs - BURST_EDGE_MS ? next : next + (cycle - intoCycle);
      }
    }
  }

  private nextRecord(): ProducerRecord {
    const id = `${this.spec.valuePrefix ?? this.defaultPrefix}${this.sequence++}`;
    const size = this.spec.valueBytes ?? DEFAULT_VALUE_BYTES;
    const bytes = size.kind === 'fixed' ? size.bytes : this.sizeDraws.int(size.minBytes, size.maxBytes);
    const value = bytes > id.length ? id + '.'.repeat(bytes - id.length) : id;
    return { topic: this.spec.topic, key: this.nextKey(), value };
  }

  private nextKey(): string | null {
    const keys = this.spec.keys ?? { kind: 'none' };
    switch (keys.kind) {
      case 'none':
        return null;
      case 'uniform':
        return `key-${this.keyDraws.int(0, keys.count - 1)}`;
      case 'zipf':
        return `key-${this.zipf!.sample(this.keyDraws.float())}`;
    }
  }
}

function validateWorkload(spec: WorkloadSpec): void {
  if (typeof spec.topic !== 'string' || spec.topic.length === 0) throw new RangeError(`workload: topic must be a non-empty string, got ${String(spec.topic)}`);
  const rate = spec.rate;
  if (rate === undefined || !['constant', 'poisson', 'bursts'].includes(rate.kind)) throw new RangeError(`workload: rate.kind must be constant, poisson or bursts`);
  if (!Number.isFinite(rate.perSec) || rate.perSec <= 0) throw new RangeError(`workload: rate.perSec must be a positive number, got ${String(rate.perSec)}`);
  if (rate.kind === 'bursts' && (!(rate.onMs > 0) || !(rate.offMs >= 0) || !Number.isFinite(rate.onMs) || !Number.isFinite(rate.offMs))) {
    throw new RangeError(`workload: bursts need onMs > 0 and offMs ≥ 0, got ${String(rate.onMs)} and ${String(rate.offMs)}`);
  }
  const keys = spec.keys;
  if (keys !== undefined && keys.kind !== 'none' && (!Number.isInteger(keys.count) || keys.count < 1)) {
    throw new RangeError(`workload: keys.count must be a positive integer, got ${String(keys.count)}`);
  }
  const size = spec.valueBytes;
  if (size !== undefined) {
    const ok = size.kind === 'fixed' ? Number.isInteger(size.bytes) && size.bytes >= 0 : Number.isInteger(size.minBytes) && Number.isInteger(size.maxBytes) && size.minBytes >= 0 && size.maxBytes >= size.minBytes;
    if (!ok) throw new RangeError(`workload: valueBytes must be fixed { bytes ≥ 0 } or uniform { 0 ≤ minBytes ≤ maxBytes }, integers`);
  }
  if (spec.maxRecords !== undefined && (!Number.isInteger(spec.maxRecords) || spec.maxRecords < 0)) {
    throw new RangeError(`workload: maxRecords must be a non-negative integer, got ${String(spec.maxRecords)}`);
  }
}
