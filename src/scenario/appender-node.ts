import type { DiskCompletion } from '../world/disk.js';
import type { Message, Node, NodeContext, NodeId } from '../world/node.js';

/** The log file an appender writes. */
export const APPENDER_LOG = 'appender.log';
const APPEND_EVERY_US = 10_000;
const RECORD_BYTES = 100;
const HEARTBEAT_EVERY_US = 100_000;

/** Brokers heartbeat each other so the network (latency, partitions) shows up in the trace. */
interface Heartbeat extends Message {
  readonly type: 'heartbeat';
}
const HEARTBEAT: Heartbeat = { type: 'heartbeat', sizeBytes: 64 };

/**
 * A stand-in broker for the world layer's demonstration, until the Kafka model lands: it appends
 * a uniquely named record to its log every 10 ms and acknowledges it the way Kafka's log does:
 * - by default once the write reaches the page cache (Kafka never fsyncs:
 *   `log.flush.interval.messages` = Long.MAX_VALUE);
 * - with `log.flush.interval.messages: N`, once an fsync issued after every N appends completes.
 * It also heartbeats its peers every 100 ms, so latency and partitions show in the trace.
 * On start it recovers its log as Kafka's log recovery does: it stops at the first torn or
 * corrupt record and truncates the rest.
 */
export class AppenderNode implements Node {
  private seq = 0;
  private sinceFlush = 0;
  /** Records appended but not yet acknowledged, by the op that lands or flushes them. */
  private readonly waitingForOp = new Map<number, string[]>();
  private readonly landedUnflushed: string[] = [];

  constructor(
    private readonly ctx: NodeContext,
    private readonly flushIntervalMessages: number | undefined,
    private readonly peers: readonly NodeId[],
  ) {}

  start(): void {
    const log = this.ctx.disk.read(APPENDER_LOG);
    let kept = 0;
    if (log.ok) {
      while (kept < log.chunks.length && !log.chunks[kept].torn && !log.chunks[kept].corrupt) kept++;
      if (kept < log.chunks.length) this.ctx.disk.truncate(APPENDER_LOG, kept);
    }
    this.ctx.record({ type: 'recovered', records: kept });
    this.ctx.setTimer('append', APPEND_EVERY_US);
    this.ctx.setTimer('heartbeat', HEARTBEAT_EVERY_US);
  }

  onMessage(_from: NodeId, _message: Message): void {}

  onTimer(name: string): void {
    if (name === 'heartbeat') {
      for (const peer of this.peers) this.ctx.send(peer, HEARTBEAT);
      this.ctx.setTimer('heartbeat', HEARTBEAT_EVERY_US);
      return;
    }
    const value = `${this.ctx.name}#${this.ctx.incarnation}.${this.seq++}`;
    const op = this.ctx.disk.append(APPENDER_LOG, value, RECORD_BYTES);
    this.waitingForOp.set(op, [value]);
    this.ctx.record({ type: 'append', value });
    this.ctx.setTimer('append', APPEND_EVERY_US);
  }

  onDiskComplete(c: DiskCompletion): void {
    const values = this.waitingForOp.get(c.opId);
    if (values === undefined) return;
    this.waitingForOp.delete(c.opId);
    if (!c.ok) {
      for (const value of values) this.ctx.record({ type: 'append-failed', value, error: c.error });
      return;
    }
    if (c.kind === 'fsync' || this.flushIntervalMessages === undefined) {
      for (const value of values) this.ctx.record({ type: 'append-acked', value });
      return;
    }
    this.landedUnflushed.push(...values);
    if (++this.sinceFlush >= this.flushIntervalMessages) {
      this.sinceFlush = 0;
      const op = this.ctx.disk.fsync(APPENDER_LOG);
      this.waitingForOp.set(op, this.landedUnflushed.splice(0));
    }
  }
}
