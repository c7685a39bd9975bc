import type { Random } from '../engine/random.js';
import type { DurationUs, TimeUs } from '../engine/time.js';
import type { DiskHandle, DiskCompletion } from './disk.js';

/**
 * A node's address on the virtual network. Brokers and controllers use their Kafka ids
 * (`node.id`); clients get ids assigned by the cluster builder.
 */
export type NodeId = number;

/** Anything sent over the network. `type` names it in traces and reports. */
export interface Message {
  readonly type: string;
  /** Bytes on the wire, for bandwidth. Defaults to 100 when absent. */
  readonly sizeBytes?: number;
}

/** A handle for `cancelTimer`. */
export type TimerId = number;

/** One entry a node adds to the run's history (what clients saw, protocol events). */
export type HistoryEntry = { readonly type: string } & Record<string, unknown>;

/**
 * The narrow world a node acts through (DESIGN.md rule 2). A node never touches the event queue,
 * the network or another node: it sends, sets timers, uses its disk and records history, and
 * reacts to what the world hands it. A crash simply drops the node object; its context goes dead
 * with it (calls on a dead context are ignored).
 */
export interface NodeContext {
  readonly id: NodeId;
  readonly name: string;
  readonly rack: string;
  /** How many times this node's process has started (1 on first boot). */
  readonly incarnation: number;
  /** The node's own random stream, forked by its name and incarnation. */
  readonly rng: Random;
  /** The machine's local clock: true time with the machine's skew and drift. */
  nowUs(): TimeUs;
  send<M extends Message>(to: NodeId, message: M): void;
  /**
   * Closes this node's connection to `peer` (Kafka's clients do so when a request times out):
   * whatever the connection still holds, either way, is dropped. The next send opens a new one.
   */
  disconnect(peer: NodeId): void;
  /** Fires `onTimer(name, data)` after `delayUs` of local time (drift applies). */
  setTimer(name: string, delayUs: DurationUs, data?: unknown): TimerId;
  cancelTimer(id: TimerId): void;
  readonly disk: DiskHandle;
  record(entry: HistoryEntry): void;
  /** The process exits on its own (after a clean shutdown): memory is gone, the page cache stays. */
  exit(): void;
}

/** A simulated process: a state machine fed with messages, timer expiries and disk completions. */
export interface Node {
  /** Called once per incarnation, right after construction, when the process boots. */
  start(): void;
  onMessage(from: NodeId, message: Message): void;
  onTimer(name: string, data: unknown): void;
  onDiskComplete?(completion: DiskCompletion): void;
  /**
   * The connection with `peer` was reset: its process died while its machine stayed up, or a
   * message reached it while no process listened (a TCP RST). Kafka's NetworkClient sees the
   * disconnect at once and fails what was in flight to that node; without this handler the node
   * notices only through its own timeouts, as it would after a power loss or behind a partition.
   */
  onConnectionReset?(peer: NodeId): void;
  /**
   * SIGTERM: shut down cleanly, then call `ctx.exit()`. A node without this handler is killed
   * at once, as a process that ignores nothing and traps nothing would be.
   */
  onTerminate?(): void;
}

/** Builds a fresh node for each incarnation: what survives a crash is only what is on disk. */
export type NodeFactory = (ctx: NodeContext) => Node;
