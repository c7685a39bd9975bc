import { SimulationError, invariant } from '../engine/errors.js';
import type { EventId, EventTarget, Simulator } from '../engine/simulator.js';
import type { Random } from '../engine/random.js';
import type { DurationUs, TimeUs } from '../engine/time.js';
import type { Disk, DiskCompletion, DiskHandle } from './disk.js';
import type { HistoryEntry, Message, Node, NodeContext, NodeFactory, NodeId, TimerId } from './node.js';

/** Where a process stands. A powered-off machine's process is `stopped`. */
export type ProcessState = 'running' | 'paused' | 'stopped';

/**
 * A machine's clock error. Local time = true time × (1 + driftPpm / 10^6) + offsetUs. Kafka's
 * timeouts are measured on local clocks, so skew and drift change when sessions expire.
 */
export interface ClockSkew {
  offsetUs: number;
  driftPpm: number;
}

/** Receives history entries, stamped with the true time and the node that recorded them. */
export type HistorySink = (timeUs: TimeUs, node: NodeId, entry: HistoryEntry) => void;

/** What a machine needs from its world. */
export interface MachineEnvironment {
  readonly sim: Simulator;
  send(from: NodeId, to: NodeId, message: Message): void;
  /** `from` closes its connection to `to`. */
  disconnect(from: NodeId, to: NodeId): void;
  /** The machine's process stopped: its connections are gone (reset, if the machine is still up). */
  processStopped(id: NodeId, kernelAlive: boolean): void;
  readonly history: HistorySink;
}

export interface MachineSpec {
  id: NodeId;
  name: string;
  rack: string;
  region: string;
  factory: NodeFactory;
  clock?: Partial<ClockSkew>;
}

/** Event kinds a machine schedules for itself. */
const enum MachineEvent {
  Timer = 1,
  Restart = 2,
  PowerOn = 3,
  Resume = 4,
}

/** A timer in flight: the payload of a Timer event. */
interface TimerRecord {
  readonly name: string;
  readonly data: unknown;
  readonly incarnation: number;
  id: TimerId;
}

/** Work that arrived while the process was paused, replayed in arrival order on resume. */
type Backlogged =
  | { kind: 'message'; from: NodeId; message: Message }
  | { kind: 'timer'; id: TimerId; record: TimerRecord; cancelled: boolean }
  | { kind: 'disk'; completion: DiskCompletion }
  | { kind: 'reset'; peer: NodeId };

/**
 * A machine hosting one process (a node), with its disk and its clock. It owns the physics of
 * DESIGN.md rule 3:
 * - `crash()` is kill -9: the node object is dropped, its timers die with it, its in-flight disk
 *   writes never land, and the page cache survives for the next incarnation.
 * - `powerOff()` also drops the page cache: only fsync'd data survives.
 * - `pause()` freezes the process (a GC pause, a VM stall): timers, messages and disk
 *   completions queue up and are handed over late, in arrival order, on `resume()`.
 * The node sees none of this machinery, only its `NodeContext`.
 */
export class Machine implements EventTarget {
  readonly traceId: number;
  readonly id: NodeId;
  readonly name: string;
  readonly rack: string;
  readonly region: string;
  private readonly factory: NodeFactory;
  private readonly sim: Simulator;
  private processState: ProcessState = 'stopped';
  private isPowered = true;
  private incarnationCount = 0;
  private node: Node | undefined;
  private backlog: Backlogged[] = [];
  private skew: ClockSkew;
  /** Pending restart or power-on, so a second `kill` does not schedule two boots. */
  private bootEvent: EventId = -1;

  constructor(
    private readonly env: MachineEnvironment,
    spec: MachineSpec,
    readonly disk: Disk,
  ) {
    this.sim = env.sim;
    this.traceId = env.sim.allocateTraceId();
    this.id = spec.id;
    this.name = spec.name;
    this.rack = spec.rack;
    this.region = spec.region;
    this.factory = spec.factory;
    this.skew = checkSkew({ offsetUs: spec.clock?.offsetUs ?? 0, driftPpm: spec.clock?.driftPpm ?? 0 }, spec.name);
  }

  get state(): ProcessState {
    return this.processState;
  }

  get powered(): boolean {
    return this.isPowered;
  }

  /** Process starts so far (1 after the first boot). */
  get incarnation(): number {
    return this.incarnationCount;
  }

  /** The live node object, for checkers and reports (never for other nodes). */
  get process(): Node | undefined {
    return this.node;
  }

  get clock(): Readonly<ClockSkew> {
    return this.skew;
  }

  /** The machine's local clock reading now. */
  localNowUs(): TimeUs {
    return Math.round(this.sim.nowUs * (1 + this.skew.driftPpm / 1e6) + this.skew.offsetUs);
  }

  /** Starts the process if it is not running. A no-op on a running or paused process. */
  start(): void {
    if (!this.isPowered) throw new SimulationError(`cannot start ${this.name}: the machine is powered off`);
    if (this.processState !== 'stopped') return;
    this.cancelBoot();
    this.incarnationCount++;
    this.processState = 'running';
    const ctx = new ProcessContext(this, this.incarnationCount, this.disk.handle((c) => this.onDiskComplete(c)));
    this.node = this.factory(ctx);
    this.node.start();
  }

  /** kill -9. The page cache survives; everything in the process's memory does not. */
  crash(): void {
    this.cancelBoot();
    if (this.processState === 'stopped') return;
    this.processState = 'stopped';
    this.node = undefined;
    this.backlog = [];
    this.disk.processCrashed();
    this.env.processStopped(this.id, this.isPowered);
  }

  /**
   * SIGTERM: a process that handles it shuts down cleanly and exits on its own (Kafka's controlled
   * shutdown); one that does not is killed.
   */
  terminate(): void {
    if (this.processState === 'stopped') return;
    const node = this.node as Node;
    if (node.onTerminate === undefined) return this.crash();
    if (this.processState === 'paused') return; // a frozen process cannot act on a signal until it resumes
    node.onTerminate();
  }

  /** @internal The process exits by itself. */
  exitProcess(incarnation: number): void {
    if (this.incarnationCount === incarnation && this.processState !== 'stopped') this.crash();
  }

  /** Boots the process after `delayUs` (a client that starts later than the cluster). */
  startAfter(delayUs: DurationUs): void {
    this.cancelBoot();
    this.bootEvent = this.sim.scheduleAfter(delayUs, this, MachineEvent.Restart);
  }

  /** Crash now and start again after `delayUs` (Jepsen's kill nemesis). */
  kill(delayUs: DurationUs): void {
    this.crash();
    this.bootEvent = this.sim.scheduleAfter(delayUs, this, MachineEvent.Restart);
  }

  /** Power loss: the process dies and the disk keeps only what was fsync'd. */
  powerOff(): void {
    const wasPowered = this.isPowered;
    // Unpowered first: a dead kernel sends no resets for the process's connections.
    this.isPowered = false;
    this.crash();
    if (wasPowered) this.disk.powerLoss();
  }

  /** Power comes back and the process boots from what survived. */
  powerOn(): void {
    if (this.isPowered) return;
    this.isPowered = true;
    this.start();
  }

  /** Power off now and on again after `delayUs`. */
  powerCycle(delayUs: DurationUs): void {
    this.powerOff();
    this.bootEvent = this.sim.scheduleAfter(delayUs, this, MachineEvent.PowerOn);
  }

  /** Freezes the process. A no-op unless it is running. */
  pause(): void {
    if (this.processState === 'running') this.processState = 'paused';
  }

  /** Pause now and resume after `delayUs`. */
  pauseFor(delayUs: DurationUs): void {
    this.pause();
    this.sim.scheduleAfter(delayUs, this, MachineEvent.Resume);
  }

  /** Thaws the process: everything that arrived meanwhile is handed over now, in order. */
  resume(): void {
    if (this.processState !== 'paused') return;
    this.processState = 'running';
    const incarnation = this.incarnationCount;
    // Handlers may pause or crash the process again; stop replaying if they do.
    while (this.backlog.length > 0 && this.processState === 'running' && this.incarnationCount === incarnation) {
      const item = this.backlog.shift() as Backlogged;
      const node = this.node as Node;
      if (item.kind === 'message') node.onMessage(item.from, item.message);
      else if (item.kind === 'timer') {
        if (!item.cancelled) node.onTimer(item.record.name, item.record.data);
      } else if (item.kind === 'reset') node.onConnectionReset?.(item.peer);
      else node.onDiskComplete?.(item.completion);
    }
  }

  /** Sets the clock's offset and drift (a skew), or jumps it (change the offset only). */
  setClock(skew: Partial<ClockSkew>): void {
    this.skew = checkSkew({ offsetUs: skew.offsetUs ?? this.skew.offsetUs, driftPpm: skew.driftPpm ?? this.skew.driftPpm }, this.name);
  }

  /** A message arrives from the network. */
  /** Returns false when no process listens: the kernel of a powered machine then answers with a reset. */
  receive(from: NodeId, message: Message): boolean {
    if (this.processState === 'running') (this.node as Node).onMessage(from, message);
    else if (this.processState === 'paused') this.backlog.push({ kind: 'message', from, message });
    else return !this.isPowered;
    return true;
  }

  /** The connection with `peer` was reset (its process died, or nothing listened there). */
  connectionReset(peer: NodeId): void {
    if (this.processState === 'running') (this.node as Node).onConnectionReset?.(peer);
    else if (this.processState === 'paused') this.backlog.push({ kind: 'reset', peer });
  }

  handleEvent(kind: number, payload: unknown): void {
    switch (kind) {
      case MachineEvent.Timer:
        this.onTimerFired(payload as TimerRecord);
        break;
      case MachineEvent.Restart:
        this.bootEvent = -1;
        if (this.isPowered) this.start();
        break;
      case MachineEvent.PowerOn:
        this.bootEvent = -1;
        this.powerOn();
        break;
      case MachineEvent.Resume:
        this.resume();
        break;
      default:
        invariant(false, `machine ${this.name} got unknown event kind ${kind}`);
    }
  }

  // --- called by the process context ---

  /** @internal */
  isLive(incarnation: number): boolean {
    return this.incarnationCount === incarnation && this.processState !== 'stopped';
  }

  /** @internal */
  send(incarnation: number, to: NodeId, message: Message): void {
    if (this.isLive(incarnation)) this.env.send(this.id, to, message);
  }

  /** @internal */
  disconnect(incarnation: number, peer: NodeId): void {
    if (this.isLive(incarnation)) this.env.disconnect(this.id, peer);
  }

  /** @internal Timer delays are local durations; drift stretches or shrinks them in true time. */
  setTimer(incarnation: number, name: string, delayUs: DurationUs, data: unknown): TimerId {
    if (!Number.isFinite(delayUs) || delayUs < 0) {
      throw new SimulationError(`${this.name}: timer ${name} needs a non-negative delay, got ${String(delayUs)}`);
    }
    if (!this.isLive(incarnation)) return -1;
    const trueDelayUs = this.skew.driftPpm === 0 ? Math.round(delayUs) : Math.round(delayUs / (1 + this.skew.driftPpm / 1e6));
    const record: TimerRecord = { name, data, incarnation, id: -1 };
    record.id = this.sim.scheduleAfter(trueDelayUs, this, MachineEvent.Timer, record);
    return record.id;
  }

  /** @internal */
  cancelTimer(incarnation: number, id: TimerId): void {
    if (this.incarnationCount !== incarnation || id < 0) return;
    if (this.sim.cancel(id)) return;
    // It may have fired during a pause and be waiting in the backlog.
    for (const item of this.backlog) {
      if (item.kind === 'timer' && item.id === id) item.cancelled = true;
    }
  }

  /** @internal Each incarnation draws from its own stream, named by machine and incarnation. */
  rngFor(incarnation: number): Random {
    return this.sim.rng.fork(`node/${this.name}/${incarnation}`);
  }

  /** @internal */
  record(entry: HistoryEntry): void {
    this.env.history(this.sim.nowUs, this.id, entry);
  }

  private onTimerFired(record: TimerRecord): void {
    if (record.incarnation !== this.incarnationCount) return;
    if (this.processState === 'running') (this.node as Node).onTimer(record.name, record.data);
    else if (this.processState === 'paused') {
      // Its handle is gone from the queue; keep the id so a cancel during replay still works.
      this.backlog.push({ kind: 'timer', id: record.id, record, cancelled: false });
    }
  }

  private onDiskComplete(completion: DiskCompletion): void {
    if (this.processState === 'running') (this.node as Node).onDiskComplete?.(completion);
    else if (this.processState === 'paused') this.backlog.push({ kind: 'disk', completion });
  }

  private cancelBoot(): void {
    if (this.bootEvent >= 0) this.sim.cancel(this.bootEvent);
    this.bootEvent = -1;
  }
}

/** The context handed to one incarnation. Once that incarnation dies, every call is ignored. */
class ProcessContext implements NodeContext {
  readonly id: NodeId;
  readonly name: string;
  readonly rack: string;
  readonly rng: Random;

  constructor(
    private readonly machine: Machine,
    readonly incarnation: number,
    readonly disk: DiskHandle,
  ) {
    this.id = machine.id;
    this.name = machine.name;
    this.rack = machine.rack;
    this.rng = machine.rngFor(incarnation);
  }

  nowUs(): TimeUs {
    return this.machine.localNowUs();
  }

  send<M extends Message>(to: NodeId, message: M): void {
    this.machine.send(this.incarnation, to, message);
  }

  disconnect(peer: NodeId): void {
    this.machine.disconnect(this.incarnation, peer);
  }

  setTimer(name: string, delayUs: DurationUs, data?: unknown): TimerId {
    return this.machine.setTimer(this.incarnation, name, delayUs, data);
  }

  cancelTimer(id: TimerId): void {
    this.machine.cancelTimer(this.incarnation, id);
  }

  record(entry: HistoryEntry): void {
    if (this.machine.isLive(this.incarnation)) this.machine.record(entry);
  }

  exit(): void {
    this.machine.exitProcess(this.incarnation);
  }
}

function checkSkew(skew: ClockSkew, name: string): ClockSkew {
  if (!Number.isFinite(skew.offsetUs)) throw new SimulationError(`${name}: clock offsetUs must be finite, got ${String(skew.offsetUs)}`);
  if (!Number.isFinite(skew.driftPpm) || skew.driftPpm <= -1e6) {
    throw new SimulationError(`${name}: clock driftPpm must be a finite number above -1000000, got ${String(skew.driftPpm)}`);
  }
  return skew;
}
