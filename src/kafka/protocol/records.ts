/**
 * The record batch, Kafka's unit of storage and replication (the v2 "magic 2" format: see
 * clients/.../record/DefaultRecordBatch.java). Batches are immutable values: the leader assigns
 * offsets and its leader epoch by making a new batch. The checksum covers everything after the
 * CRC field, as Kafka's CRC-32C does, and is verified when a log is recovered.
 */
export interface KafkaRecord {
  readonly key: string | null;
  readonly value: string;
  readonly timestampMs: number;
}

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
/** The epoch a batch carries before a leader stamps it (RecordBatch.NO_PARTITION_LEADER_EPOCH). */
export const NO_PARTITION_LEADER_EPOCH = -1;

export interface RecordBatch {
  readonly baseOffset: number;
  readonly partitionLeaderEpoch: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly records: readonly KafkaRecord[];
  readonly maxTimestampMs: number;
  /** Bytes on disk and on the wire: the v2 header (61 bytes) plus each record. */
  readonly sizeBytes: number;
  readonly crc: number;
}

/** The v2 batch header, in bytes (DefaultRecordBatch.RECORD_BATCH_OVERHEAD). */
export const BATCH_OVERHEAD_BYTES = 61;
/** Per-record framing (length, attributes, deltas, header count) in a v2 batch, roughly. */
const RECORD_OVERHEAD_BYTES = 8;

export function lastOffset(batch: RecordBatch): number {
  return batch.baseOffset + batch.records.length - 1;
}

export function nextOffset(batch: RecordBatch): number {
  return batch.baseOffset + batch.records.length;
}

/** The sequence of the batch's last record (sequences wrap after Integer.MAX_VALUE). */
export function lastSequence(batch: RecordBatch): number {
  if (batch.baseSequence < 0) return NO_SEQUENCE;
  const last = batch.baseSequence + batch.records.length - 1;
  return last > 2_147_483_647 ? last - 2_147_483_648 : last;
}

/** Builds a batch and computes its size and checksum. */
export function makeBatch(fields: Omit<RecordBatch, 'sizeBytes' | 'crc' | 'maxTimestampMs'>): RecordBatch {
  let sizeBytes = BATCH_OVERHEAD_BYTES;
  let maxTimestampMs = -1;
  for (const r of fields.records) {
    sizeBytes += RECORD_OVERHEAD_BYTES + (r.key === null ? 0 : r.key.length) + r.value.length;
    if (r.timestampMs > maxTimestampMs) maxTimestampMs = r.timestampMs;
  }
  const batch = { ...fields, maxTimestampMs, sizeBytes, crc: 0 };
  batch.crc = checksum(batch);
  return batch;
}

/** The same batch at another base offset and leader epoch: what a leader does on append. */
export function stampBatch(batch: RecordBatch, baseOffset: number, partitionLeaderEpoch: number): RecordBatch {
  return makeBatch({
    baseOffset,
    partitionLeaderEpoch,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    records: batch.records,
  });
}

/** True if the stored checksum matches the content (DefaultRecordBatch.isValid). */
export function isValidBatch(batch: RecordBatch): boolean {
  return checksum(batch) === batch.crc;
}

/** FNV-1a over every field after the CRC, as CRC-32C covers them in Kafka. */
function checksum(batch: Omit<RecordBatch, 'crc'>): number {
  let h = 0x811c9dc5;
  const mix = (n: number) => {
    h = Math.imul(h ^ (n | 0), 0x01000193);
    h = Math.imul(h ^ ((n / 4294967296) | 0), 0x01000193);
  };
  const mixText = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    mix(s.length);
  };
  mix(batch.baseOffset);
  mix(batch.partitionLeaderEpoch);
  mix(batch.producerId);
  mix(batch.producerEpoch);
  mix(batch.baseSequence);
  mix(batch.maxTimestampMs);
  mix(batch.records.length);
  for (const r of batch.records) {
    if (r.key === null) mix(-1);
    else mixText(r.key);
    mixText(r.value);
    mix(r.timestampMs);
  }
  return h >>> 0;
}
