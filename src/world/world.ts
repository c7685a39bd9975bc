import { SimulationError } from '../engine/errors.js';
import { Simulator, type RunLimit, type RunResult } from '../engine/simulator.js';
import type { TraceSink } from '../engine/trace.js';
import { Disk, type DiskConfig } from './disk.js';
import { Machine, type ClockSkew, type HistorySink } from './machine.js';
import { Network, type LinkConfig } from './network.js';
import type { HistoryEntry, Message, NodeFactory, NodeId } from './node.js';
import type { TimeUs } from '../engine/time.js';

export interface WorldOptions {
  seed: number | string;
  traceSink?: TraceSink;
  /** Default link behaviour (latency, bandwidth, loss...). */
  network?: Partial<LinkConfig>;
  /** Default disk behaviour for every machine. */
  disk?: Partial<DiskConfig>;
  /** Where nodes' history entries go. By default they are kept in `world.history`. */
  history?: HistorySink;
  /** Called after each entry is recorded (by either sink): online checkers hook in here. */
  onHistory?: HistorySink;
  /**
   * Observers of the network, for reports (a message-sequence diagram): called when a node sends
   * and when a message is handed to its destination. Off unless given; they must not act on the world.
   */
  onSend?: MessageObserver;
  onDeliver?: MessageObserver;
}

/** Sees one message going out (`onSend`) or arriving (`onDeliver`) at `timeUs`. */
export type MessageObserver = (timeUs: TimeUs, from: NodeId, to: NodeId, message: Message) => void;

export interface AddMachineOptions {
  id: NodeId;
  factory: NodeFactory;
  name?: string;
  rack?: string;
  region?: string;
  disk?: Partial<DiskConfig>;
  clock?: Partial<ClockSkew>;
}

/** One recorded history entry, as kept by the default sink. */
export interface RecordedEntry {
  timeUs: TimeUs;
  node: NodeId;
  entry: HistoryEntry;
}

/**
 * The simulated world: one engine, one network, and machines that each host a process and a
 * disk. Scenario code builds a world, adds machines with node factories, and runs it. Faults
 * are applied to machines (`crash`, `powerOff`, `pause`...) and to the network (`isolate`,
 * `partition`...).
 */
export class World {
  readonly sim: Simulator;
  readonly network: Network;
  /** History kept by the default sink (empty when a custom sink was given). */
  readonly history: RecordedEntry[] = [];
  private readonly machinesById = new Map<NodeId, Machine>();
  private readonly machineList: Machine[] = [];
  private readonly diskDefaults: Partial<DiskConfig>;
  private readonly historySink: HistorySink;
  private readonly onSend: MessageObserver | undefined;
  private readonly onDeliver: MessageObserver | undefined;

  constructor(options: WorldOptions) {
    this.sim = new Simulator({ seed: options.seed, traceSink: options.traceSink });
    this.diskDefaults = options.disk ?? {};
    const sink: HistorySink = options.history ?? ((timeUs, node, entry) => this.history.push({ timeUs, node, entry }));
    const listener = options.onHistory;
    this.historySink = listener === undefined ? sink : (timeUs, node, entry) => {
      sink(timeUs, node, entry);
      listener(timeUs, node, entry);
    };
    this.onSend = options.onSend;
    this.onDeliver = options.onDeliver;
    this.network = new Network(
      this.sim,
      this.sim.rng.fork('network'),
      (from, to, message) => this.deliver(from, to, message),
      options.network,
      (from, to) => this.machinesById.get(to)?.connectionReset(from),
    );
  }

  /** Adds a machine (powered on, process not yet started: call `start()` or `startAll()`). */
  addMachine(options: AddMachineOptions): Machine {
    if (typeof options.factory !== 'function') throw new SimulationError(`machine ${String(options.id)} needs a node factory`);
    if (this.machinesById.has(options.id)) throw new SimulationError(`a machine with id ${options.id} already exists`);
    const name = options.name ?? `node-${options.id}`;
    const rack = options.rack ?? 'default';
    const region = options.region ?? 'default';
    this.network.addNode(options.id, { rack, region });
    const disk = new Disk(this.sim, this.sim.rng.fork(`disk/${name}`), name, { ...this.diskDefaults, ...options.disk });
    const machine = new Machine(
      {
        sim: this.sim,
        send: this.onSend === undefined ? (from, to, message) => this.network.send(from, to, message) : (from, to, message) => this.observedSend(from, to, message),
        disconnect: (from, to) => this.network.disconnect(from, to),
        processStopped: (id, kernelAlive) => this.network.resetConnections(id, kernelAlive),
        history: this.historySink,
      },
      { id: options.id, name, rack, region, factory: options.factory, clock: options.clock },
      disk,
    );
    this.machinesById.set(options.id, machine);
    this.machineList.push(machine);
    return machine;
  }

  machine(id: NodeId): Machine {
    const m = this.machinesById.get(id);
    if (m === undefined) throw new SimulationError(`no machine with id ${id}`);
    return m;
  }

  /** Machines in the order they were added. */
  machines(): readonly Machine[] {
    return this.machineList;
  }

  /** Boots every stopped, powered machine now, in the order they were added. */
  startAll(): void {
    for (const m of this.machineList) if (m.powered && m.state === 'stopped') m.start();
  }

  runUntil(limit: RunLimit): RunResult {
    return this.sim.runUntil(limit);
  }

  get nowUs(): TimeUs {
    return this.sim.nowUs;
  }

  get traceHash(): string {
    return this.sim.traceHash;
  }

  private observedSend(from: NodeId, to: NodeId, message: Message): void {
    this.onSend?.(this.sim.nowUs, from, to, message);
    this.network.send(from, to, message);
  }

  private deliver(from: NodeId, to: NodeId, message: Message): void {
    this.onDeliver?.(this.sim.nowUs, from, to, message);
    const m = this.machinesById.get(to);
    if (m !== undefined && !m.receive(from, message)) this.network.sendReset(to, from);
  }
}
