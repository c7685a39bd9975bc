import type { TimeUs } from './time.js';

/**
 * Receives every delivered event when a run wants a full trace (for reports and debugging).
 * With no sink attached the engine keeps only the running hash, so memory stays bounded however
 * long the run.
 */
export interface TraceSink {
  onEvent(timeUs: TimeUs, targetId: number, kind: number, payload: unknown): void;
}

/** A sink that keeps every event in memory, for tests and short runs. */
export class MemoryTraceSink implements TraceSink {
  readonly events: { timeUs: TimeUs; targetId: number; kind: number; payload: unknown }[] = [];
  onEvent(timeUs: TimeUs, targetId: number, kind: number, payload: unknown): void {
    this.events.push({ timeUs, targetId, kind, payload });
  }
}

const TWO_POW_32 = 4_294_967_296;

/**
 * The running trace hash: every delivered event (time, target, kind) and any value a component
 * mixes in are folded into two independent 32-bit lanes (murmur3's mixing steps, each lane with
 * its own seed and multiplier), read out as 16 hex digits. Two runs with the same hash delivered
 * the same events at the same times to the same targets, in the same order.
 */
export class TraceHash {
  private a = 0x9747b28c | 0;
  private b = 0x2545f491 | 0;

  /** Folds one 32-bit integer into both lanes. */
  mix(value: number): void {
    let k = Math.imul(value | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let a = this.a ^ k;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let b = this.b ^ Math.imul(value | 0, 0x85ebca6b);
    b = (b << 17) | (b >>> 15);
    this.b = (Math.imul(b, 0x27d4eb2d) + 0x165667b1) | 0;
  }

  /** Folds an event: its time (both 32-bit halves), its target and its kind. */
  mixEvent(timeUs: TimeUs, targetId: number, kind: number): void {
    this.mix(timeUs >>> 0);
    this.mix((timeUs / TWO_POW_32) >>> 0);
    this.mix(targetId);
    this.mix(kind);
  }

  /** Folds a string (names, message types): its UTF-16 code units and its length. */
  mixString(text: string): void {
    for (let i = 0; i < text.length; i++) this.mix(text.charCodeAt(i));
    this.mix(text.length);
  }

  /** The hash as 16 lowercase hex digits, with a final avalanche on each lane. */
  digest(): string {
    return hex8(finalMix(this.a)) + hex8(finalMix(this.b));
  }
}

function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
