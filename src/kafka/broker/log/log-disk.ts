import type { Chunk, DiskCompletion, DiskError, DiskHandle, DiskReadResult } from '../../../world/disk.js';

/**
 * The log layer's view of a broker's disk: a DiskHandle that keeps every file's writes,
 * truncations and deletions in the order the log made them.
 *
 * Why it is needed. Kafka writes into the page cache synchronously (`FileChannel.write`), so when
 * `LogSegment.truncateTo` or a segment deletion runs, every earlier write is already in the file.
 * The simulated disk queues writes (an append lands when its op completes), but truncate and
 * delete act on the page cache at once, and a queued append lands afterwards whatever happened to
 * its file meanwhile (a deleted file is re-created). So a truncation issued while the file still
 * has writes in the queue would be undone by them.
 *
 * The rule here: a truncate or delete of a file that has writes in flight is deferred until the
 * last of them completes; meanwhile, appends to that file are held in memory and issued right
 * after the deferred operation is applied. Nothing else writes to the file in between, so the
 * deferred operation is right even if completions reach the process late (a paused process gets
 * them in a burst on resume). The file's logical content (what `read` returns) is always what the
 * log wrote. A process crash loses held appends, as it loses queued ones.
 *
 * fsync: an fsync is always issued at once (its op id can be waited for). If the file has a
 * deferred truncate or delete, that fsync cannot cover the held appends; then a second fsync is
 * issued when they are, and `fsyncThen`'s callback waits for that one. So a caller that waits for
 * the op id `fsync` returned, rather than for the callback, may see data made durable a moment
 * later than it thinks, in that window only (UnifiedLog.flush says so to its callers).
 *
 * A failed write (ENOSPC) makes the whole log directory fail (`failed`), as Kafka takes a log dir
 * offline on an IOException (LogDirFailureChannel).
 */
export class LogDisk implements DiskHandle {
  private readonly states = new Map<string, FileState>();
  private readonly ops = new Map<number, OpRecord>();
  private failure: DiskError | undefined;

  constructor(readonly disk: DiskHandle) {}

  /** The first write error seen, if any: the log directory is then offline. */
  get failed(): DiskError | undefined {
    return this.failure;
  }

  /** Ops issued through this view and not completed yet (for tests and invariants). */
  get opsInFlight(): number {
    return this.ops.size;
  }

  append(file: string, payload: unknown, sizeBytes: number): number {
    const state = this.states.get(file);
    if (state !== undefined && state.deferred !== null) {
      state.held.push({ payload, sizeBytes });
      return -1;
    }
    return this.issueWrite('append', file, payload, sizeBytes);
  }

  /**
   * An atomic replace lands after every earlier write to the file, and replaces what they left, so
   * it simply supersedes a deferred truncate or delete.
   */
  writeAtomic(file: string, payload: unknown, sizeBytes: number): number {
    const state = this.states.get(file);
    let waiters: (() => void)[] | undefined;
    if (state !== undefined && state.deferred !== null) {
      state.deferred = null;
      state.held = [];
      waiters = state.durableWaiters;
      state.durableWaiters = [];
    }
    const opId = this.issueWrite('write-atomic', file, payload, sizeBytes);
    if (waiters !== undefined && waiters.length > 0) {
      const op = this.ops.get(opId);
      if (op !== undefined) op.onDurable = waiters;
    }
    return opId;
  }

  fsync(file: string): number {
    return this.fsyncThen(file, undefined);
  }

  /**
   * Issues an fsync of `file` now and returns its op id; `onDurable` runs once everything the log
   * wrote to the file so far is durable (see the class comment for a file with a deferred
   * truncate or delete). It never runs if the process dies first.
   */
  fsyncThen(file: string, onDurable: (() => void) | undefined): number {
    const opId = this.disk.fsync(file);
    const state = this.states.get(file);
    const deferred = state !== undefined && state.deferred !== null;
    if (deferred && onDurable !== undefined) state.durableWaiters.push(onDurable);
    if (opId >= 0) this.ops.set(opId, { file, kind: 'fsync', onDurable: deferred || onDurable === undefined ? undefined : [onDurable] });
    return opId;
  }

  truncate(file: string, chunkCount: number): void {
    const state = this.stateOf(file);
    const deferred = state.deferred;
    if (deferred !== null) {
      if (chunkCount <= deferred.keepChunks) {
        deferred.keepChunks = chunkCount;
        state.held = [];
      } else {
        state.held.length = Math.min(state.held.length, chunkCount - deferred.keepChunks);
      }
      return;
    }
    if (state.pending > 0) {
      state.deferred = { keepChunks: chunkCount, deleteFile: false };
      return;
    }
    this.truncateNow(file, state, chunkCount);
  }

  delete(file: string): void {
    const state = this.stateOf(file);
    if (state.deferred !== null || state.pending > 0) {
      state.deferred = { keepChunks: 0, deleteFile: true };
      state.held = [];
      return;
    }
    this.disk.delete(file);
    state.length = 0;
  }

  /**
   * The file as the log wrote it, as far as its writes have landed: the page cache, corrected for
   * a deferred truncate or delete and followed by held appends. Writes still in the queue are not
   * visible (the log reads files only when it loads, when it has none in flight).
   */
  read(file: string): DiskReadResult {
    const state = this.states.get(file);
    const deferred = state?.deferred ?? null;
    if (state === undefined || deferred === null) {
      const result = this.disk.read(file);
      if (state !== undefined && state.pending === 0) state.length = result.ok ? result.chunks.length : 0;
      return result;
    }
    let chunks: Chunk[] = [];
    if (!deferred.deleteFile) {
      const result = this.disk.read(file);
      if (!result.ok && result.error === 'EIO') return result;
      if (result.ok) chunks = result.chunks.slice(0, deferred.keepChunks);
    }
    if (deferred.deleteFile && state.held.length === 0) return { ok: false, error: 'ENOENT' };
    for (const held of state.held) chunks.push({ payload: held.payload, sizeBytes: held.sizeBytes });
    return { ok: true, chunks };
  }

  exists(file: string): boolean {
    const state = this.states.get(file);
    if (state !== undefined && state.deferred !== null) return !state.deferred.deleteFile || state.held.length > 0;
    return this.disk.exists(file) || (state !== undefined && state.pending > 0);
  }

  /** Files that exist for the log: on disk, or about to be (writes in flight), minus deferred deletions. */
  list(prefix = ''): string[] {
    const names = new Set(this.disk.list(prefix));
    for (const [file, state] of this.states) {
      if (!file.startsWith(prefix)) continue;
      if (state.deferred !== null && state.deferred.deleteFile && state.held.length === 0) names.delete(file);
      else if (state.pending > 0 || state.held.length > 0) names.add(file);
    }
    return [...names].sort();
  }

  sizeBytes(file: string): number {
    return this.disk.sizeBytes(file);
  }

  /**
   * Bookkeeping for an op issued through this view; returns false for anyone else's op. Safe to
   * call twice with the same completion (the log manager and a log may both forward it).
   */
  onDiskComplete(completion: DiskCompletion): boolean {
    const op = this.ops.get(completion.opId);
    if (op === undefined) return false;
    this.ops.delete(completion.opId);
    if (!completion.ok && this.failure === undefined) this.failure = completion.error ?? 'EIO';
    if (op.kind === 'fsync') {
      if (op.onDurable !== undefined) for (const waiter of op.onDurable) waiter();
      return true;
    }
    const state = this.stateOf(op.file);
    state.pending--;
    if (completion.ok) {
      if (op.kind === 'write-atomic') state.length = 1;
      else if (state.length >= 0) state.length++; // an unknown length stays unknown until read
    }
    if (op.onDurable !== undefined && completion.ok) for (const waiter of op.onDurable) waiter();
    if (state.pending === 0 && state.deferred !== null) this.applyDeferred(op.file, state);
    return true;
  }

  private issueWrite(kind: 'append' | 'write-atomic', file: string, payload: unknown, sizeBytes: number): number {
    const opId = kind === 'append' ? this.disk.append(file, payload, sizeBytes) : this.disk.writeAtomic(file, payload, sizeBytes);
    if (opId < 0) return opId; // the handle is inert: this process is dead
    this.stateOf(file).pending++;
    this.ops.set(opId, { file, kind, onDurable: undefined });
    return opId;
  }

  /** Every write issued before the deferred operation has landed, and nothing after it was issued. */
  private applyDeferred(file: string, state: FileState): void {
    const deferred = state.deferred as Deferred;
    state.deferred = null;
    if (deferred.deleteFile) {
      this.disk.delete(file);
      state.length = 0;
    } else {
      this.truncateNow(file, state, deferred.keepChunks);
    }
    const held = state.held;
    state.held = [];
    for (const write of held) this.issueWrite('append', file, write.payload, write.sizeBytes);
    const waiters = state.durableWaiters;
    state.durableWaiters = [];
    if (waiters.length > 0) {
      const opId = this.disk.fsync(file);
      if (opId >= 0) this.ops.set(opId, { file, kind: 'fsync', onDurable: waiters });
    }
  }

  /** Cuts the page cache; a failed write may have left the file shorter than the log thinks. */
  private truncateNow(file: string, state: FileState, chunkCount: number): void {
    if (state.length < 0) {
      const result = this.disk.read(file);
      if (!result.ok) return; // absent (nothing to cut) or unreadable (the truncate cannot be done either)
      state.length = result.chunks.length;
    }
    if (!this.disk.exists(file)) return;
    const keep = Math.min(chunkCount, state.length);
    this.disk.truncate(file, keep);
    state.length = keep;
  }

  private stateOf(file: string): FileState {
    let state = this.states.get(file);
    if (state === undefined) {
      state = { pending: 0, length: -1, deferred: null, held: [], durableWaiters: [] };
      this.states.set(file, state);
    }
    return state;
  }
}

interface Deferred {
  keepChunks: number;
  readonly deleteFile: boolean;
}

interface FileState {
  /** Appends and atomic writes issued and not completed. */
  pending: number;
  /** Chunks in the page cache as far as completions tell, or -1 if unknown (a file this view has not read). */
  length: number;
  /** A truncate or delete waiting for the pending writes. */
  deferred: Deferred | null;
  /** Appends made while `deferred` is set, issued when it is applied. */
  held: { payload: unknown; sizeBytes: number }[];
  /** Callers of `fsyncThen` waiting for the fsync issued when `deferred` is applied. */
  durableWaiters: (() => void)[];
}

interface OpRecord {
  readonly file: string;
  readonly kind: 'append' | 'write-atomic' | 'fsync';
  onDurable: (() => void)[] | undefined;
}
