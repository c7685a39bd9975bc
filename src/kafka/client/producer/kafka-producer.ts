/**
 * A Kafka producer process (sans-IO): apache/kafka clients/src/main/java/org/apache/kafka/
 * clients/producer/KafkaProducer.java with its RecordAccumulator, Sender, NetworkClient, metadata
 * and, for the idempotent producer, TransactionManager (see the files next to this one).
 *
 * `send()` never blocks the simulation: where Kafka's send() would block (no metadata for the
 * topic yet, no free buffer.memory), the record waits in a FIFO queue until it can proceed, and
 * fails with Kafka's TimeoutException once max.block.ms has passed since its send(). Everything
 * else runs in the sender loop, woken by answers, timers and new batches.
 *
 * History, as Jepsen records it (DESIGN.md "Checks"): every send is an `invoke`, then exactly
 * one of `ok` (partition and offset), `fail` (certainly not written) or `info` (it may have been
 * written: a lost or late answer, an error after the append, a delivery timeout after it was
 * sent). acks=0 sends are `info`: nothing ever says whether they arrived.
 */
import { invariant } from '../../../engine/errors.js';
import type { Random } from '../../../engine/random.js';
import type { KafkaMessage } from '../../protocol/messages.js';
import { CURRENT_KAFKA, type ProtocolSwitches } from '../../protocol/switches.js';
import type { Message, Node, NodeContext, NodeId } from '../../../world/node.js';
import { UNKNOWN_PARTITION, ProducerPartitioner, type CustomPartitioner } from '../partitioner.js';
import { ExponentialBackoff } from './exponential-backoff.js';
import { NetworkClient, PRODUCER_REQUEST_TIMEOUT_TIMER } from '../network-client.js';
import { singleRecordBatchSizeBytes, type ProducerIdAndEpoch } from './producer-batch.js';
import { parseProducerConfig, type ProducerConfig, type ProducerConfigInput } from './producer-config.js';
import { ProducerMetadata } from './producer-metadata.js';
import { RecordAccumulator } from './record-accumulator.js';
import { Sender, type SenderStats } from './sender.js';
import { SendHandle, type ProducerRecord } from './send-handle.js';
import { TransactionManager } from './transaction-manager.js';
import { ProducerWorkload, type WorkloadSpec } from './workload.js';

export interface KafkaProducerOptions {
  /** Broker node ids to ask for metadata first (bootstrap.servers). */
  readonly bootstrap: readonly NodeId[];
  /** Kafka's producer configs, by Kafka's names; validated as Kafka does. */
  readonly config?: ProducerConfigInput;
  /** A custom partitioner (partitioner.class), for every record without an explicit partition. */
  readonly partitioner?: CustomPartitioner;
  /** `idempotentProducer: false` sends no producer id or sequences, whatever enable.idempotence says. */
  readonly switches?: Partial<ProtocolSwitches>;
  /** Topics to fetch metadata for at start (others are fetched on first send). */
  readonly topics?: readonly string[];
  /** Workloads the process drives from its start. */
  readonly workloads?: readonly WorkloadSpec[];
}

const SENDER_WAKEUP_TIMER = 'producer-sender-wakeup';
const WORKLOAD_TIMER = 'producer-workload';
/** Wake-ups at one instant before the loop is declared stuck (each drains or unblocks something). */
const MAX_IMMEDIATE_WAKEUPS = 100_000;

/** A send that could not be appended yet: KafkaProducer.send blocked in waitOnMetadata or BufferPool.allocate. */
interface BlockedSend {
  readonly handle: SendHandle;
  readonly deadlineMs: number;
  reason: 'metadata' | 'memory';
  /** For the memory wait: the bytes it asked for, and the wait left when it began (Kafka's remainingWaitMs). */
  sizeBytes: number;
  remainingWaitMs: number;
}

export class KafkaProducer implements Node {
  readonly config: ProducerConfig;
  /** enable.idempotence after Kafka's rules, and the `idempotentProducer` switch. */
  readonly idempotent: boolean;
  /** Every send, in the order of send(). */
  readonly sends: SendHandle[] = [];
  readonly workloads: ProducerWorkload[] = [];
  private readonly metadata: ProducerMetadata;
  private readonly partitioner: ProducerPartitioner;
  private readonly accumulator: RecordAccumulator;
  private readonly transactionManager: TransactionManager | null;
  private readonly network: NetworkClient;
  private readonly sender: Sender;
  private readonly blocked: BlockedSend[] = [];
  private wakeupAtMs = Infinity;
  private wakeupTimer = -1;
  private flushing = false;
  /** Zero-delay wake-ups within one millisecond: each must make progress, so they are bounded. */
  private immediateWakeups = 0;
  private immediateNowMs = -1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: KafkaProducerOptions,
  ) {
    if (!Array.isArray(options.bootstrap) || options.bootstrap.length === 0) throw new RangeError('KafkaProducer: bootstrap must list at least one broker id');
    this.config = parseProducerConfig(options.config);
    const switches = { ...CURRENT_KAFKA, ...options.switches };
    this.idempotent = this.config['enable.idempotence'] && switches.idempotentProducer;
    const c = this.config;
    const rng: Random = ctx.rng;
    const retryBackoff = new ExponentialBackoff(c['retry.backoff.ms'], c['retry.backoff.max.ms'], rng.fork('retry-backoff'));
    const reconnectBackoff = new ExponentialBackoff(c['reconnect.backoff.ms'], c['reconnect.backoff.max.ms'], rng.fork('reconnect-backoff'));
    this.metadata = new ProducerMetadata(c['metadata.max.age.ms'], (n) => retryBackoff.backoffMs(n));
    this.partitioner = new ProducerPartitioner(
      {
        'batch.size': c['batch.size'],
        'partitioner.ignore.keys': c['partitioner.ignore.keys'],
        'partitioner.adaptive.partitioning.enable': c['partitioner.adaptive.partitioning.enable'],
        'partitioner.availability.timeout.ms': c['partitioner.availability.timeout.ms'],
      },
      { random: partitionerRandom(rng.fork('partitioner')), partitioner: options.partitioner },
    );
    this.transactionManager = this.idempotent ? new TransactionManager() : null;
    this.accumulator = new RecordAccumulator(
      {
        batchSizeBytes: c['batch.size'],
        lingerMs: c['linger.ms'],
        deliveryTimeoutMs: c['delivery.timeout.ms'],
        bufferMemoryBytes: c['buffer.memory'],
        retryBackoffMs: (n) => retryBackoff.backoffMs(n),
        partitionAvailabilityTimeoutMs: c['partitioner.availability.timeout.ms'],
      },
      this.partitioner,
      this.transactionManager,
    );
    this.network = new NetworkClient(
      {
        nowMs: () => this.nowMs(),
        send: (to, message) => ctx.send(to, message),
        disconnect: (to) => ctx.disconnect(to),
        setTimer: (name, delayUs, data) => ctx.setTimer(name, delayUs, data),
        cancelTimer: (id) => ctx.cancelTimer(id),
      },
      c['request.timeout.ms'],
      (n) => reconnectBackoff.backoffMs(n),
      rng.fork('least-loaded-node'),
    );
    this.sender = new Sender(
      {
        acks: c.acks,
        maxInFlightRequestsPerConnection: c['max.in.flight.requests.per.connection'],
        maxRequestSizeBytes: c['max.request.size'],
        retries: c.retries,
        requestTimeoutMs: c['request.timeout.ms'],
        deliveryTimeoutMs: c['delivery.timeout.ms'],
        retryBackoffMs: (n) => retryBackoff.backoffMs(n),
      },
      this.accumulator,
      this.metadata,
      this.transactionManager,
      this.network,
      options.bootstrap,
      (partition, error) => ctx.record({ type: 'produce-error', partition, error }),
    );
    (options.workloads ?? []).forEach((spec, i) => {
      this.workloads.push(
        new ProducerWorkload(
          spec,
          { nowMs: () => ctx.nowUs() / 1000, wakeAfter: (delayMs) => ctx.setTimer(WORKLOAD_TIMER, Math.ceil(delayMs * 1000), i), send: (record) => this.send(record) },
          rng.fork(`workload/${i}`),
          `${ctx.name}/${i}:`,
        ),
      );
    });
  }

  start(): void {
    for (const topic of this.options.topics ?? []) this.metadata.add(topic);
    for (const w of this.workloads) this.metadata.add(w.spec.topic);
    for (const w of this.workloads) w.start();
    this.poll();
  }

  /**
   * KafkaProducer.send: records the invoke, then appends the record to its partition's batch, or
   * queues it while metadata or memory is missing. Invalid arguments throw (a programming error,
   * not an outcome).
   */
  send(record: ProducerRecord): SendHandle {
    checkRecord(record);
    const nowMs = this.nowMs();
    const handle = new SendHandle(record, nowMs);
    this.sends.push(handle);
    this.ctx.record({ type: 'send', phase: 'invoke', value: record.value, key: record.key ?? null, topic: record.topic, ...(record.partition != null ? { partition: record.partition } : {}) });
    handle.onComplete((h) => this.recordOutcome(h));
    const entry: BlockedSend = { handle, deadlineMs: nowMs + this.config['max.block.ms'], reason: 'metadata', sizeBytes: 0, remainingWaitMs: 0 };
    if (this.blocked.length > 0) {
      // Sends behind a blocked one wait their turn, as calls on a blocked thread would.
      this.blocked.push(entry);
      this.metadata.add(record.topic);
    } else if (!this.trySend(entry, nowMs)) {
      this.blocked.push(entry);
    }
    // Sender.wakeup: the sender runs as its own step, so sends made in the same instant share a batch.
    this.scheduleWakeup(nowMs, nowMs);
    return handle;
  }

  /** KafkaProducer.flush: makes every batch sendable at once, until all sent records complete. */
  flush(): void {
    if (!this.flushing) {
      this.flushing = true;
      this.accumulator.beginFlush();
    }
    this.poll();
  }

  onMessage(_from: NodeId, message: Message): void {
    const m = message as KafkaMessage;
    if (m.type.endsWith('Response')) this.network.handleResponse(m as Extract<KafkaMessage, { type: `${string}Response` }>);
    this.poll();
  }

  /** NetworkClient sees the broker's connection closed (a reset): what was in flight fails now. */
  onConnectionReset(peer: NodeId): void {
    if (this.network.inFlightCount(peer) === 0) return;
    this.network.disconnect(peer);
    this.poll();
  }

  onTimer(name: string, data: unknown): void {
    switch (name) {
      case PRODUCER_REQUEST_TIMEOUT_TIMER:
        this.network.handleTimeout(data as number);
        break;
      case SENDER_WAKEUP_TIMER:
        this.wakeupAtMs = Infinity;
        this.wakeupTimer = -1;
        break;
      case WORKLOAD_TIMER:
        this.workloads[data as number].onTimer();
        break;
    }
    this.poll();
  }

  // ------------------------------------------------------------ inspection

  get stats(): SenderStats & { readonly blockedSends: number; readonly availableMemoryBytes: number; readonly epochBumps: number } {
    return { ...this.sender.stats, blockedSends: this.blocked.length, availableMemoryBytes: this.accumulator.free.availableMemoryBytes, epochBumps: this.transactionManager?.epochBumps ?? 0 };
  }

  /** The idempotent producer's id and epoch; undefined without idempotence. */
  get producerIdAndEpoch(): ProducerIdAndEpoch | undefined {
    return this.transactionManager?.producerIdAndEpoch();
  }

  /** The leader this producer believes a partition has, or null. */
  leaderOf(topic: string, partition: number): number | null {
    return this.metadata.leaderFor(topic, partition);
  }

  /** Sends not yet complete. */
  pendingCount(): number {
    let n = 0;
    for (const h of this.sends) if (!h.isDone) n++;
    return n;
  }

  // ------------------------------------------------------------ the loop

  /** Runs the sender and the blocked sends, then sets the next wake-up. */
  private poll(): void {
    const nowMs = this.nowMs();
    let progressed = this.processBlockedSends(nowMs);
    const { nextRunMs, sentData } = this.sender.runOnce(nowMs);
    // Completions may have freed memory for a blocked send.
    progressed = this.processBlockedSends(nowMs) || progressed;
    if (this.flushing && this.blocked.length === 0 && !this.accumulator.hasIncomplete()) {
      this.flushing = false;
      this.accumulator.endFlush();
    }
    let wakeMs = sentData || progressed ? nowMs : nextRunMs;
    for (const b of this.blocked) wakeMs = Math.min(wakeMs, b.deadlineMs);
    this.scheduleWakeup(wakeMs, nowMs);
  }

  private scheduleWakeup(atMs: number, nowMs: number): void {
    if (atMs === Infinity || atMs >= this.wakeupAtMs) return;
    if (this.wakeupTimer >= 0) this.ctx.cancelTimer(this.wakeupTimer);
    const delayUs = atMs <= nowMs ? 0 : Math.max(1, atMs * 1000 - this.ctx.nowUs());
    if (delayUs === 0) {
      this.immediateWakeups = this.immediateNowMs === nowMs ? this.immediateWakeups + 1 : 1;
      this.immediateNowMs = nowMs;
      invariant(this.immediateWakeups <= MAX_IMMEDIATE_WAKEUPS, `${this.ctx.name}: the sender woke ${this.immediateWakeups} times at ${nowMs} ms without time passing`);
    }
    this.wakeupAtMs = atMs;
    this.wakeupTimer = this.ctx.setTimer(SENDER_WAKEUP_TIMER, delayUs);
  }

  /**
   * Fails blocked sends past max.block.ms, then lets the queue's head proceed while it can.
   * Returns true if some send got appended.
   */
  private processBlockedSends(nowMs: number): boolean {
    for (let i = 0; i < this.blocked.length; ) {
      const b = this.blocked[i];
      if (b.deadlineMs > nowMs) {
        i++;
        continue;
      }
      this.blocked.splice(i, 1);
      b.handle.fail(this.blockedTimeoutMessage(b), 'fail', nowMs);
    }
    let progressed = false;
    while (this.blocked.length > 0 && this.trySend(this.blocked[0], nowMs)) {
      this.blocked.shift();
      progressed = true;
    }
    this.accumulator.waitersForMemory = this.blocked.length > 0 && this.blocked[0].reason === 'memory' ? 1 : 0;
    return progressed;
  }

  /**
   * KafkaProducer.doSend past its blocking points: waitOnMetadata, partition, ensureValidRecordSize,
   * accumulator.append. Returns false if the send must wait (and says why in `entry`).
   */
  private trySend(entry: BlockedSend, nowMs: number): boolean {
    const { handle } = entry;
    const record = handle.record;
    const partitions = this.metadata.partitionsForTopic(record.topic);
    if (partitions.length === 0 || (record.partition != null && record.partition >= partitions.length)) {
      this.metadata.add(record.topic);
      this.metadata.requestUpdate();
      entry.reason = 'metadata';
      return false;
    }
    let partition: number;
    try {
      partition = this.partitioner.partition(record, this.metadata);
    } catch (e) {
      handle.fail(`KafkaException: ${(e as Error).message}`, 'fail', nowMs);
      return true;
    }
    const sizeError = this.recordSizeError(record);
    if (sizeError !== undefined) {
      handle.fail(sizeError, 'fail', nowMs);
      return true;
    }
    const kafkaRecord = { key: record.key ?? null, value: record.value, timestampMs: Math.floor(nowMs) };
    const result = this.accumulator.append(record.topic, partition, kafkaRecord, handle, this.metadata, nowMs);
    if (result.kind === 'needs-memory') {
      if (result.sizeBytes > this.config['buffer.memory']) {
        // BufferPool.allocate: a batch larger than the whole pool can never be allocated.
        handle.fail(`KafkaException: IllegalArgumentException: Attempt to allocate ${result.sizeBytes} bytes, but there is a hard limit of ${this.config['buffer.memory']} on memory allocations.`, 'fail', nowMs);
        return true;
      }
      if (entry.reason !== 'memory') entry.remainingWaitMs = Math.max(0, entry.deadlineMs - nowMs);
      entry.reason = 'memory';
      entry.sizeBytes = result.sizeBytes;
      return false;
    }
    return true;
  }

  /** KafkaProducer.ensureValidRecordSize, with Kafka's messages (RecordTooLargeException). */
  private recordSizeError(record: ProducerRecord): string | undefined {
    const size = singleRecordBatchSizeBytes(record.key ?? null, record.value);
    if (size > this.config['max.request.size']) {
      return `RecordTooLargeException: The message is ${size} bytes when serialized which is larger than ${this.config['max.request.size']}, which is the value of the max.request.size configuration.`;
    }
    if (size > this.config['buffer.memory']) {
      return `RecordTooLargeException: The message is ${size} bytes when serialized which is larger than the total memory buffer you have configured with the buffer.memory configuration.`;
    }
    return undefined;
  }

  private blockedTimeoutMessage(b: BlockedSend): string {
    const record = b.handle.record;
    const maxBlockMs = this.config['max.block.ms'];
    if (b.reason === 'memory') {
      // BufferExhaustedException (a TimeoutException) from BufferPool.allocate.
      return (
        `BufferExhaustedException: Failed to allocate ${b.sizeBytes} bytes within the configured max blocking time ${Math.round(b.remainingWaitMs)} ms. ` +
        `Total memory: ${this.config['buffer.memory']} bytes. Available memory: ${this.accumulator.free.availableMemoryBytes} bytes. Poolable size: ${this.config['batch.size']} bytes`
      );
    }
    const count = this.metadata.partitionsForTopic(record.topic).length;
    if (record.partition != null && count > 0) {
      return `TimeoutException: Partition ${record.partition} of topic ${record.topic} with partition count ${count} is not present in metadata after ${maxBlockMs} ms.`;
    }
    return `TimeoutException: Topic ${record.topic} not present in metadata after ${maxBlockMs} ms.`;
  }

  private recordOutcome(h: SendHandle): void {
    const base = { type: 'send', value: h.value, topic: h.topic };
    const partition = h.partition >= 0 ? { partition: h.partition } : {};
    if (h.status === 'ok' && this.config.acks !== 0) {
      this.ctx.record({ ...base, phase: 'ok', partition: h.partition, offset: h.offset });
    } else if (h.status === 'ok') {
      this.ctx.record({ ...base, phase: 'info', ...partition, acks: 0, error: 'acks=0: the broker never acknowledges' });
    } else {
      this.ctx.record({ ...base, phase: h.outcome ?? 'info', ...partition, error: h.error ?? 'unknown' });
    }
  }

  /** Kafka's clock: whole milliseconds (Time.milliseconds), so deadlines compare exactly. */
  private nowMs(): number {
    return Math.floor(this.ctx.nowUs() / 1000);
  }
}

function partitionerRandom(rng: Random): { readonly random: () => number } {
  return { random: () => rng.float() };
}

/** ProducerRecord's own checks, plus the simulator's: string values, since the history compares them. */
function checkRecord(record: ProducerRecord): void {
  if (record === null || typeof record !== 'object') throw new TypeError(`send: record must be an object, got ${String(record)}`);
  if (typeof record.topic !== 'string' || record.topic.length === 0) throw new TypeError(`send: topic must be a non-empty string, got ${String(record.topic)}`);
  if (typeof record.value !== 'string') throw new TypeError(`send: value must be a string, got ${typeof record.value}`);
  if (record.key != null && typeof record.key !== 'string') throw new TypeError(`send: key must be a string or null, got ${typeof record.key}`);
  const p = record.partition;
  if (p != null && (!Number.isInteger(p) || p < 0 || p === UNKNOWN_PARTITION)) {
    // ProducerRecord's constructor message.
    throw new RangeError(`Invalid partition: ${String(p)}. Partition number should always be non-negative or null.`);
  }
}
