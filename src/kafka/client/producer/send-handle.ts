/**
 * What `send()` returns: Kafka's Future<RecordMetadata> and Callback, as a value a test or a
 * checker can inspect at any simulated instant (apache/kafka clients/.../producer/internals/
 * FutureRecordMetadata.java, ProduceRequestResult.java).
 */

/** A record as the application hands it to `send()` (Kafka's ProducerRecord, with string data). */
export interface ProducerRecord {
  readonly topic: string;
  /** Null or absent: the built-in sticky partitioner (or the custom one) decides. */
  readonly key?: string | null;
  /** Must be unique across the run for the history checkers to tell records apart. */
  readonly value: string;
  /** An explicit partition wins over every partitioner. */
  readonly partition?: number | null;
}

/**
 * - `pending`: accepted, not yet acknowledged (blocked in send(), in a batch, or in flight);
 * - `ok`: acknowledged, with its partition and offset (offset -1 for acks=0, as Kafka reports it);
 * - `error`: failed, with Kafka's exception text; `outcome` says whether it may still be in the log.
 */
export type SendStatus = 'pending' | 'ok' | 'error';

/**
 * For a failed send, Jepsen's distinction (which the history records): `fail` when the record
 * certainly was not written (never sent, or every attempt was refused before the append), `info`
 * when it may have been (a lost or timed-out response, an error after the append).
 */
export type FailureOutcome = 'fail' | 'info';

export class SendHandle {
  status: SendStatus = 'pending';
  /** -1 until the partition is chosen (at append time for the sticky partitioner). */
  partition = -1;
  /** The record's offset once acknowledged; -1 when unknown (acks=0, DUPLICATE_SEQUENCE_NUMBER). */
  offset = -1;
  error: string | undefined;
  outcome: FailureOutcome | undefined;
  /** Local time of send() and of completion, in ms. */
  readonly sentAtMs: number;
  completedAtMs = -1;
  private callbacks: ((handle: SendHandle) => void)[] = [];

  constructor(
    readonly record: ProducerRecord,
    sentAtMs: number,
  ) {
    this.sentAtMs = sentAtMs;
  }

  get topic(): string {
    return this.record.topic;
  }

  get value(): string {
    return this.record.value;
  }

  get key(): string | null {
    return this.record.key ?? null;
  }

  get isDone(): boolean {
    return this.status !== 'pending';
  }

  /** Kafka's Callback: runs once, when the send completes (at once if it already has). */
  onComplete(callback: (handle: SendHandle) => void): void {
    if (this.isDone) callback(this);
    else this.callbacks.push(callback);
  }

  /** @internal Completes the send successfully. Returns false if it was already complete. */
  succeed(partition: number, offset: number, nowMs: number): boolean {
    if (this.isDone) return false;
    this.status = 'ok';
    this.partition = partition;
    this.offset = offset;
    this.completedAtMs = nowMs;
    this.fire();
    return true;
  }

  /** @internal Fails the send. Returns false if it was already complete. */
  fail(error: string, outcome: FailureOutcome, nowMs: number): boolean {
    if (this.isDone) return false;
    this.status = 'error';
    this.error = error;
    this.outcome = outcome;
    this.completedAtMs = nowMs;
    this.fire();
    return true;
  }

  private fire(): void {
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback(this);
  }
}
