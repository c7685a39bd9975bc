import { EventQueue, type EventHandle } from './event-queue.js';
import { SimulationError, checkDurationUs } from './errors.js';
import { Random } from './random.js';
import { MAX_TIME_US, type DurationUs, type TimeUs } from './time.js';
import { TraceHash, type TraceSink } from './trace.js';

/**
 * Something that receives events. `traceId` identifies it in the trace hash, so it must be
 * assigned deterministically (the world numbers its nodes and links in creation order).
 * `kind` is a small integer the target defines; `payload` is whatever it scheduled.
 */
export interface EventTarget {
  readonly traceId: number;
  handleEvent(kind: number, payload: unknown): void;
}

/** An event's handle, for `cancel`. Stale handles are harmless. */
export type EventId = EventHandle;

/** Where `runUntil` stops: a time, a predicate checked after each event, or an event budget. */
export type RunLimit =
  | TimeUs
  | ((sim: Simulator) => boolean)
  | { timeUs?: TimeUs; events?: number; until?: (sim: Simulator) => boolean };

export type StopReason = 'time' | 'predicate' | 'events' | 'idle';

export interface RunResult {
  reason: StopReason;
  eventsDelivered: number;
  nowUs: TimeUs;
}

export interface SimulatorOptions {
  seed: number | string;
  traceSink?: TraceSink;
}

/**
 * The discrete-event engine: a virtual clock, the event queue and the trace hash. One thread,
 * one queue; nothing happens between events, so a run is a pure function of its seed and its
 * inputs. Model code never touches the simulator directly (DESIGN.md rule 2): the world gives
 * each node a narrow context that schedules through it.
 */
export class Simulator {
  readonly rng: Random;
  private readonly queue = new EventQueue();
  private targets: (EventTarget | undefined)[] = [];
  private kinds: Int32Array = new Int32Array(1024);
  private payloads: unknown[] = [];
  private clockUs: TimeUs = 0;
  private delivered = 0;
  private readonly hash = new TraceHash();
  private sink: TraceSink | undefined;
  private nextTraceId = 1;

  constructor(options: SimulatorOptions) {
    this.rng = Random.fromSeed(options.seed);
    this.sink = options.traceSink;
  }

  /** The current virtual time. */
  get nowUs(): TimeUs {
    return this.clockUs;
  }

  /** Events delivered so far. */
  get eventsDelivered(): number {
    return this.delivered;
  }

  /** Events scheduled and not yet delivered or cancelled. */
  get pendingEvents(): number {
    return this.queue.size;
  }

  /** The running trace hash, as 16 hex digits. */
  get traceHash(): string {
    return this.hash.digest();
  }

  /** Attaches or detaches the full-trace sink. */
  setTraceSink(sink: TraceSink | undefined): void {
    this.sink = sink;
  }

  /** A fresh id for an event target, in creation order (deterministic). */
  allocateTraceId(): number {
    return this.nextTraceId++;
  }

  /** Folds a value that matters to the run (a message type, a size) into the trace hash. */
  traceMix(value: number): void {
    this.hash.mix(value);
  }

  traceMixString(text: string): void {
    this.hash.mixString(text);
  }

  /** Schedules `kind` for `target` at the absolute time `atUs` (≥ now). */
  schedule(atUs: TimeUs, target: EventTarget, kind: number, payload?: unknown): EventId {
    if (!Number.isSafeInteger(atUs) || atUs < this.clockUs || atUs > MAX_TIME_US) {
      throw new SimulationError(
        `cannot schedule an event at ${String(atUs)}us: it must be an integer time no earlier than now (${this.clockUs}us)`,
      );
    }
    const handle = this.queue.push(atUs);
    const index = EventQueue.indexOf(handle);
    if (index >= this.kinds.length) this.growKinds(index);
    this.targets[index] = target;
    this.kinds[index] = kind;
    this.payloads[index] = payload;
    return handle;
  }

  /** Schedules `kind` for `target` after `delayUs` (a non-negative integer) from now. */
  scheduleAfter(delayUs: DurationUs, target: EventTarget, kind: number, payload?: unknown): EventId {
    checkDurationUs(delayUs, 'delay');
    return this.schedule(this.clockUs + delayUs, target, kind, payload);
  }

  /** Cancels a pending event. Returns false if it already fired or was cancelled. */
  cancel(id: EventId): boolean {
    if (!this.queue.cancel(id)) return false;
    const index = EventQueue.indexOf(id);
    this.targets[index] = undefined;
    this.payloads[index] = undefined;
    return true;
  }

  isPending(id: EventId): boolean {
    return this.queue.isPending(id);
  }

  /** The time of the next pending event, or Infinity. */
  nextEventUs(): TimeUs {
    return this.queue.peekTimeUs();
  }

  /** Delivers the next event. Returns false when nothing is pending. */
  step(): boolean {
    const index = this.queue.pop();
    if (index < 0) return false;
    this.deliver(index);
    return true;
  }

  /**
   * Runs until the limit: a time (the clock then stands at that time, with later events still
   * pending), a predicate checked after every event, an event budget, or any combination (the
   * first reached wins). Stops early, with reason `idle`, when nothing is pending.
   */
  runUntil(limit: RunLimit): RunResult {
    let timeUs = MAX_TIME_US;
    let budget = Infinity;
    let until: ((sim: Simulator) => boolean) | undefined;
    if (typeof limit === 'number') timeUs = limit;
    else if (typeof limit === 'function') until = limit;
    else if (limit !== null && typeof limit === 'object') {
      if (limit.timeUs !== undefined) timeUs = limit.timeUs;
      if (limit.events !== undefined) budget = limit.events;
      until = limit.until;
    } else {
      throw new SimulationError(`runUntil needs a time, a predicate or { timeUs, events, until }, got ${String(limit)}`);
    }
    if (!Number.isSafeInteger(timeUs) || timeUs < this.clockUs) {
      throw new SimulationError(`runUntil time must be an integer no earlier than now (${this.clockUs}us), got ${String(timeUs)}`);
    }
    if (!(budget >= 0)) throw new SimulationError(`runUntil event budget must be ≥ 0, got ${String(budget)}`);
    if (until !== undefined && typeof until !== 'function') throw new SimulationError('runUntil `until` must be a function');
    const start = this.delivered;
    for (;;) {
      if (this.delivered - start >= budget) return this.result('events', start);
      const index = this.queue.popUntil(timeUs);
      if (index < 0) {
        const reason: StopReason = this.queue.size === 0 ? 'idle' : 'time';
        if (timeUs !== MAX_TIME_US) this.clockUs = timeUs;
        return this.result(reason, start);
      }
      this.deliver(index);
      if (until !== undefined && until(this)) return this.result('predicate', start);
    }
  }

  private deliver(index: number): void {
    const target = this.targets[index] as EventTarget;
    const kind = this.kinds[index];
    const payload = this.payloads[index];
    this.targets[index] = undefined;
    this.payloads[index] = undefined;
    const t = this.queue.lastPoppedUs;
    this.clockUs = t;
    this.delivered++;
    this.hash.mixEvent(t, target.traceId, kind);
    if (this.sink !== undefined) this.sink.onEvent(t, target.traceId, kind, payload);
    target.handleEvent(kind, payload);
  }

  private result(reason: StopReason, start: number): RunResult {
    return { reason, eventsDelivered: this.delivered - start, nowUs: this.clockUs };
  }

  private growKinds(index: number): void {
    let size = this.kinds.length;
    while (size <= index) size *= 2;
    const kinds = new Int32Array(size);
    kinds.set(this.kinds);
    this.kinds = kinds;
  }
}
