import {
  CONSUMER_REPLICA_ID,
  NO_LEADER_EPOCH,
  wireSize,
  type Acks,
  type FetchRequest,
  type FetchResponse,
  type KafkaMessage,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../../../src/kafka/protocol/messages.js';
import { makeBatch, NO_PARTITION_LEADER_EPOCH, type RecordBatch } from '../../../src/kafka/protocol/records.js';
import type { Message, Node, NodeContext, NodeId } from '../../../src/world/node.js';
import type { TestCluster } from './cluster.js';

/** One request the client sent, and its response once it arrives (never, for acks=0). */
export interface Exchange<R> {
  readonly to: NodeId;
  readonly sentAtMs: number;
  response?: R;
  receivedAtMs?: number;
}

type Request = ProduceRequest | FetchRequest | OffsetForLeaderEpochRequest | ListOffsetsRequest;
type Response = ProduceResponse | FetchResponse | OffsetForLeaderEpochResponse | ListOffsetsResponse;

/**
 * A client for broker tests that sends exactly the request it is given, to exactly the broker
 * it is told, and keeps every response with its arrival time. No retries, no metadata, no
 * timeouts: the test decides what a missing answer means. Produce requests carry what the test
 * builds (an idempotent batch, any acks); fetches carry whatever leader epoch the test wants.
 */
export class RawClient implements Node {
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Exchange<Response>>();

  constructor(private readonly ctx: NodeContext) {}

  start(): void {}

  get nowMs(): number {
    return this.ctx.nowUs() / 1000;
  }

  produce(to: NodeId, o: { topic?: string; partition?: number; acks: Acks; timeoutMs?: number; batch: RecordBatch }): Exchange<ProduceResponse> {
    return this.send(to, {
      type: 'ProduceRequest',
      correlationId: 0,
      acks: o.acks,
      timeoutMs: o.timeoutMs ?? 30_000,
      partitions: [{ topic: o.topic ?? 'orders', partition: o.partition ?? 0, batch: o.batch }],
      sizeBytes: wireSize(1, o.batch.sizeBytes),
    });
  }

  /** A consumer Fetch (replicaId -1), or a follower's if `replicaId` is given. */
  fetch(
    to: NodeId,
    o: { topic?: string; partition?: number; fetchOffset: number; currentLeaderEpoch?: number; replicaId?: number; replicaEpoch?: number; maxWaitMs?: number },
  ): Exchange<FetchResponse> {
    return this.send(to, {
      type: 'FetchRequest',
      correlationId: 0,
      replicaId: o.replicaId ?? CONSUMER_REPLICA_ID,
      replicaEpoch: o.replicaEpoch ?? -1,
      maxWaitMs: o.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes: 10_485_760,
      isolationLevel: 'read_uncommitted',
      partitions: [
        {
          topic: o.topic ?? 'orders',
          partition: o.partition ?? 0,
          fetchOffset: o.fetchOffset,
          currentLeaderEpoch: o.currentLeaderEpoch ?? NO_LEADER_EPOCH,
          lastFetchedEpoch: NO_LEADER_EPOCH,
          logStartOffset: -1,
          partitionMaxBytes: 1_048_576,
        },
      ],
      sizeBytes: wireSize(1),
    });
  }

  offsetForLeaderEpoch(to: NodeId, o: { topic?: string; partition?: number; currentLeaderEpoch: number; leaderEpoch: number }): Exchange<OffsetForLeaderEpochResponse> {
    return this.send(to, {
      type: 'OffsetForLeaderEpochRequest',
      correlationId: 0,
      replicaId: CONSUMER_REPLICA_ID,
      partitions: [{ topic: o.topic ?? 'orders', partition: o.partition ?? 0, currentLeaderEpoch: o.currentLeaderEpoch, leaderEpoch: o.leaderEpoch }],
      sizeBytes: wireSize(1),
    });
  }

  listOffsets(to: NodeId, o: { topic?: string; partition?: number; currentLeaderEpoch: number; timestamp: number }): Exchange<ListOffsetsResponse> {
    return this.send(to, {
      type: 'ListOffsetsRequest',
      correlationId: 0,
      replicaId: CONSUMER_REPLICA_ID,
      isolationLevel: 'read_uncommitted',
      partitions: [{ topic: o.topic ?? 'orders', partition: o.partition ?? 0, currentLeaderEpoch: o.currentLeaderEpoch, timestamp: o.timestamp }],
      sizeBytes: wireSize(1),
    });
  }

  onMessage(_from: NodeId, message: Message): void {
    const m = message as KafkaMessage;
    if (!('correlationId' in m)) return;
    const exchange = this.pending.get(m.correlationId);
    if (exchange === undefined || exchange.response !== undefined) return;
    exchange.response = m as Response;
    exchange.receivedAtMs = this.nowMs;
  }

  onTimer(): void {}

  private send<R extends Response>(to: NodeId, request: Request): Exchange<R> {
    const correlationId = this.nextCorrelationId++;
    const exchange: Exchange<R> = { to, sentAtMs: this.nowMs };
    this.pending.set(correlationId, exchange as Exchange<Response>);
    this.ctx.send(to, { ...request, correlationId });
    return exchange;
  }
}

export const RAW_CLIENT_ID = 3000;

/** Adds a RawClient to a running TestCluster and returns it. */
export function addRawClient(c: TestCluster, id = RAW_CLIENT_ID): RawClient {
  const machine = c.world.addMachine({ id, name: `raw-client-${id}`, factory: (ctx) => new RawClient(ctx) });
  machine.start();
  return machine.process as RawClient;
}

/** A batch as a client sends it; idempotent when `producerId` is given (KIP-98 fields). */
export function batchOf(values: readonly string[], idempotence?: { producerId: number; producerEpoch?: number; baseSequence: number }): RecordBatch {
  return makeBatch({
    baseOffset: 0,
    partitionLeaderEpoch: NO_PARTITION_LEADER_EPOCH,
    producerId: idempotence?.producerId ?? -1,
    producerEpoch: idempotence === undefined ? -1 : (idempotence.producerEpoch ?? 0),
    baseSequence: idempotence?.baseSequence ?? -1,
    records: values.map((value) => ({ key: null, value, timestampMs: 0 })),
  });
}
