import type { LogDisk } from './log-disk.js';
import { snapshotFileName } from './log-file-names.js';
import { producerSnapshotSizeBytes, type ProducerSnapshot } from './producer-state.js';
import { KafkaStorageException } from './types.js';

/**
 * The `<offset>.snapshot` files of one partition (ProducerStateManager's `snapshots` map and its
 * file handling). A snapshot written by this process is kept in memory too, so reading it back
 * does not depend on whether its write has landed yet; one found on disk at load is read from
 * the file when first needed.
 */
export class ProducerSnapshotFiles {
  /** Offsets with a snapshot file, ascending. */
  private offsets: number[];
  private readonly written = new Map<number, ProducerSnapshot>();

  constructor(
    private readonly disk: LogDisk,
    private readonly dir: string,
    offsetsOnDisk: readonly number[],
  ) {
    this.offsets = [...offsetsOnDisk].sort((a, b) => a - b);
  }

  list(): readonly number[] {
    return this.offsets;
  }

  latestOffset(): number | undefined {
    return this.offsets[this.offsets.length - 1];
  }

  /** Writes (or replaces) the snapshot file at `snapshot.offset`. */
  write(snapshot: ProducerSnapshot): void {
    this.disk.writeAtomic(snapshotFileName(this.dir, snapshot.offset), snapshot, producerSnapshotSizeBytes(snapshot));
    this.written.set(snapshot.offset, snapshot);
    if (!this.offsets.includes(snapshot.offset)) {
      this.offsets.push(snapshot.offset);
      this.offsets.sort((a, b) => a - b);
    }
  }

  delete(offset: number): void {
    const index = this.offsets.indexOf(offset);
    if (index < 0) return;
    this.offsets.splice(index, 1);
    this.written.delete(offset);
    this.disk.delete(snapshotFileName(this.dir, offset));
  }

  /** Deletes every snapshot whose offset matches. */
  deleteWhere(predicate: (offset: number) => boolean): void {
    for (const offset of this.offsets.filter(predicate)) this.delete(offset);
  }

  clear(): void {
    this.deleteWhere(() => true);
  }

  /**
   * ProducerStateManager.loadFromSnapshot: the latest readable snapshot; an unreadable or
   * malformed one is deleted and the next older tried (CorruptSnapshotException). A read error
   * (EIO) takes the log dir offline.
   */
  readLatest(): ProducerSnapshot | undefined {
    for (;;) {
      const offset = this.latestOffset();
      if (offset === undefined) return undefined;
      const snapshot = this.read(offset);
      if (snapshot !== undefined) return snapshot;
      this.delete(offset);
    }
  }

  private read(offset: number): ProducerSnapshot | undefined {
    const cached = this.written.get(offset);
    if (cached !== undefined) return cached;
    const file = snapshotFileName(this.dir, offset);
    const result = this.disk.read(file);
    if (!result.ok) {
      if (result.error === 'EIO') throw new KafkaStorageException(`cannot read ${file}: EIO`);
      return undefined;
    }
    const chunk = result.chunks[0];
    if (result.chunks.length !== 1 || chunk.torn === true || chunk.corrupt === true) return undefined;
    const payload = chunk.payload as Partial<ProducerSnapshot> | null;
    if (payload === null || typeof payload !== 'object' || payload.offset !== offset || !Array.isArray(payload.producers)) return undefined;
    return payload as ProducerSnapshot;
  }
}
