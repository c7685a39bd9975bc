import { Errors, errorName } from '../../../src/kafka/protocol/errors.js';
import { InFlightRequests, REQUEST_TIMEOUT_TIMER } from '../../../src/kafka/protocol/in-flight-requests.js';
import { wireSize, type Acks, type KafkaMessage, type MetadataResponse, type ProduceResponse } from '../../../src/kafka/protocol/messages.js';
import { makeBatch } from '../../../src/kafka/protocol/records.js';
import type { Message, Node, NodeContext, NodeId } from '../../../src/world/node.js';

type Response = Extract<KafkaMessage, { type: `${string}Response` }>;

/** What the test producer saw for one send, Jepsen style. */
export interface SendOutcome {
  value: string;
  partition: number;
  status: 'invoke' | 'ok' | 'fail' | 'info';
  offset?: number;
  error?: string;
  leader?: number;
}

/**
 * A deliberately simple producer for broker tests (the real one comes with the producer issue):
 * one record per request, to the leader its last metadata names, no retries. Every send is
 * recorded as invoke, then ok (with the offset), fail (a definite error) or info (a timeout).
 */
export class TestProducer implements Node {
  readonly outcomes: SendOutcome[] = [];
  private leaders = new Map<number, number>();
  private leaderEpochs = new Map<number, number>();
  private readonly inFlight: InFlightRequests<Response>;

  constructor(
    private readonly ctx: NodeContext,
    private readonly topic: string,
    private readonly bootstrap: readonly NodeId[],
    private readonly acks: Acks,
    private readonly timeoutMs = 30_000,
  ) {
    this.inFlight = new InFlightRequests<Response>((n, d, data) => ctx.setTimer(n, d, data), (id) => ctx.cancelTimer(id));
  }

  start(): void {
    this.refreshMetadata();
  }

  /** Asks every bootstrap broker for leaders and keeps, per partition, the newest leader epoch heard. */
  refreshMetadata(): void {
    for (const broker of this.bootstrap) {
      this.request(broker, { type: 'MetadataRequest', correlationId: 0, topics: [this.topic], sizeBytes: wireSize(1) }, (r) => {
        const m = r as MetadataResponse | undefined;
        if (m === undefined) return;
        for (const t of m.topics) {
          for (const p of t.partitions) {
            if (p.leader < 0 || p.leaderEpoch < (this.leaderEpochs.get(p.partition) ?? -1)) continue;
            this.leaders.set(p.partition, p.leader);
            this.leaderEpochs.set(p.partition, p.leaderEpoch);
          }
        }
      });
    }
  }

  leaderOf(partition: number): number | undefined {
    return this.leaders.get(partition);
  }

  send(partition: number, value: string): SendOutcome {
    const outcome: SendOutcome = { value, partition, status: 'invoke' };
    this.outcomes.push(outcome);
    const leader = this.leaders.get(partition);
    if (leader === undefined) {
      outcome.status = 'fail';
      outcome.error = 'NO_LEADER_KNOWN';
      return outcome;
    }
    outcome.leader = leader;
    const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, producerId: -1, producerEpoch: -1, baseSequence: -1, records: [{ key: null, value, timestampMs: Math.round(this.ctx.nowUs() / 1000) }] });
    this.request(
      leader,
      { type: 'ProduceRequest', correlationId: 0, acks: this.acks, timeoutMs: this.timeoutMs, partitions: [{ topic: this.topic, partition, batch }], sizeBytes: wireSize(1, batch.sizeBytes) },
      (r) => {
        const resp = r as ProduceResponse | undefined;
        if (resp === undefined) {
          outcome.status = 'info';
          outcome.error = 'TIMEOUT';
          return;
        }
        const p = resp.partitions[0];
        if (p.error === Errors.NONE) {
          outcome.status = 'ok';
          outcome.offset = p.baseOffset;
        } else {
          outcome.status = p.error === Errors.REQUEST_TIMED_OUT ? 'info' : 'fail';
          outcome.error = errorName(p.error);
          if (p.error === Errors.NOT_LEADER_OR_FOLLOWER) this.refreshMetadata();
        }
      },
    );
    if (this.acks === 0) outcome.status = 'info';
    return outcome;
  }

  onMessage(_from: NodeId, message: Message): void {
    const m = message as KafkaMessage;
    if (m.type.endsWith('Response')) this.inFlight.complete(m as Response);
  }

  onTimer(name: string, data: unknown): void {
    if (name === REQUEST_TIMEOUT_TIMER) this.inFlight.expire(data as number);
  }

  private request(to: number, message: KafkaMessage, onResponse: (r: Response | undefined) => void): void {
    const correlationId = this.inFlight.newCorrelationId();
    this.inFlight.register(correlationId, { destination: to, onResponse, onTimeout: () => onResponse(undefined) }, (this.timeoutMs + 5_000) * 1000);
    this.ctx.send(to, Object.assign({}, message, { correlationId }));
  }
}
