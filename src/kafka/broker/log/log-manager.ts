import type { DiskCompletion, DiskHandle } from '../../../world/disk.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { LogConfig } from './log-config.js';
import { LogDisk } from './log-disk.js';
import { epochCheckpointFileName, parseOffsetFile } from './log-file-names.js';
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS } from './producer-state.js';
import { KafkaStorageException } from './types.js';
import { UnifiedLog } from './unified-log.js';

/** Broker-level checkpoint files, at the root of the log directory (LogManager.scala, ReplicaManager.scala). */
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const HIGH_WATERMARK_CHECKPOINT_FILE = 'replication-offset-checkpoint';

/** The KRaft metadata log's directory; it belongs to the Raft layer, not to LogManager (LogManager.loadLogs skips it). */
const CLUSTER_METADATA_DIR = '__cluster_metadata-0';
const PARTITION_DIR = /^(.+)-(\d+)$/;

/** A checkpoint file's content: one offset per partition, keyed `topic-partition`. */
export type OffsetCheckpoint = Record<string, number>;

/** Kafka's text checkpoint size: version and count lines, then `topic partition offset` per entry. */
function checkpointSizeBytes(entries: number): number {
  return 4 + entries * 40;
}

/**
 * All logs of one broker (LogManager.scala), on one log directory: the simulated disk. It loads
 * every partition directory at startup, creates and deletes logs, writes the broker-level
 * checkpoint files, runs retention, and routes disk completions to the logs. All logs share one
 * LogDisk, so writes, truncations and deletions of any file stay in order (see log-disk.ts).
 *
 * The broker drives the schedule, with Kafka's periods: `checkpointRecoveryPointsAndLogStartOffsets`
 * every `log.flush.offset.checkpoint.interval.ms` (60000), `checkpointHighWatermarks` every
 * `replica.high.watermark.checkpoint.interval.ms` (5000), `cleanupLogs` every
 * `log.retention.check.interval.ms` (300000, first after `log.initial.task.delay.ms`).
 */
export class LogManager {
  readonly logDisk: LogDisk;
  private readonly logs = new Map<string, UnifiedLog>();
  private nowMsSeen = 0;
  private offlineReason: string | undefined;

  constructor(
    disk: DiskHandle,
    readonly defaultConfig: LogConfig,
    private readonly options: { readonly producerIdExpirationMs?: number } = {},
  ) {
    this.logDisk = new LogDisk(disk);
  }

  /** The log directory is offline (a checkpoint could not be read, or a write failed): the broker should stop. */
  get offline(): boolean {
    return this.offlineReason !== undefined || this.logDisk.failed !== undefined;
  }

  get offlineCause(): string | undefined {
    return this.offlineReason ?? (this.logDisk.failed === undefined ? undefined : `disk write failed: ${this.logDisk.failed}`);
  }

  /**
   * LogManager.loadLogs at broker start: reads the three checkpoint files and loads every
   * partition directory found on the disk (each recovers as after an unclean shutdown). Missing
   * checkpoint entries count as 0, as in Kafka. `configFor` gives a topic's config (defaults to
   * the broker default).
   */
  loadAll(nowMs: number, configFor: (topic: string) => LogConfig = () => this.defaultConfig): UnifiedLog[] {
    this.observeNow(nowMs);
    let recoveryPoints: OffsetCheckpoint;
    let logStartOffsets: OffsetCheckpoint;
    let highWatermarks: OffsetCheckpoint;
    try {
      recoveryPoints = this.readCheckpoint(RECOVERY_POINT_CHECKPOINT_FILE);
      logStartOffsets = this.readCheckpoint(LOG_START_OFFSET_CHECKPOINT_FILE);
      highWatermarks = this.readCheckpoint(HIGH_WATERMARK_CHECKPOINT_FILE);
    } catch (error) {
      if (!(error instanceof KafkaStorageException)) throw error;
      this.offlineReason = error.message;
      return [];
    }
    const loaded: UnifiedLog[] = [];
    for (const dir of this.partitionDirs()) {
      if (this.logs.has(dir)) continue;
      const match = PARTITION_DIR.exec(dir) as RegExpExecArray;
      const topic = match[1];
      const partition = Number(match[2]);
      const log = UnifiedLog.load({
        disk: this.logDisk.disk,
        logDisk: this.logDisk,
        topic,
        partition,
        config: configFor(topic),
        nowMs,
        recoveryPoint: recoveryPoints[dir] ?? 0,
        logStartOffsetCheckpoint: logStartOffsets[dir] ?? 0,
        highWatermarkCheckpoint: highWatermarks[dir] ?? 0,
        producerIdExpirationMs: this.options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
      });
      if (log.offline && this.offlineReason === undefined) this.offlineReason = log.offlineCause;
      this.logs.set(dir, log);
      loaded.push(log);
    }
    return loaded;
  }

  getLog(key: string): UnifiedLog | undefined {
    return this.logs.get(key);
  }

  /**
   * LogManager.getOrCreateLog: the existing log (its config replaced by `config` when given, as a
   * dynamic topic config change would), or a new empty one.
   */
  getOrCreateLog(topic: string, partition: number, config?: LogConfig, nowMs: number = this.nowMsSeen): UnifiedLog {
    this.observeNow(nowMs);
    const key = tpKey(topic, partition);
    const existing = this.logs.get(key);
    if (existing !== undefined) {
      if (config !== undefined && config !== existing.config) existing.updateConfig(config);
      return existing;
    }
    const log = UnifiedLog.load({
      disk: this.logDisk.disk,
      logDisk: this.logDisk,
      topic,
      partition,
      config: config ?? this.defaultConfig,
      nowMs,
      recoveryPoint: 0,
      logStartOffsetCheckpoint: 0,
      highWatermarkCheckpoint: 0,
      producerIdExpirationMs: this.options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    });
    this.logs.set(key, log);
    return log;
  }

  /** Every log, by partition key. */
  allLogs(): UnifiedLog[] {
    return [...this.logs.keys()].sort().map((key) => this.logs.get(key) as UnifiedLog);
  }

  /**
   * LogManager.checkpointLogRecoveryOffsets and checkpointLogStartOffsets: both files rewritten
   * atomically (CheckpointFile: tmp, fsync, rename). Returns the two op ids.
   */
  checkpointRecoveryPointsAndLogStartOffsets(): [number, number] {
    const recoveryPoints: OffsetCheckpoint = {};
    const logStartOffsets: OffsetCheckpoint = {};
    for (const log of this.allLogs()) {
      if (log.offline) continue;
      recoveryPoints[log.dir] = log.recoveryPoint;
      logStartOffsets[log.dir] = log.logStartOffset;
    }
    return [this.writeCheckpoint(RECOVERY_POINT_CHECKPOINT_FILE, recoveryPoints), this.writeCheckpoint(LOG_START_OFFSET_CHECKPOINT_FILE, logStartOffsets)];
  }

  /** ReplicaManager.checkpointHighWatermarks: every log's HW, leaders and followers alike. Returns the op id. */
  checkpointHighWatermarks(): number {
    const highWatermarks: OffsetCheckpoint = {};
    for (const log of this.allLogs()) if (!log.offline) highWatermarks[log.dir] = log.highWatermark;
    return this.writeCheckpoint(HIGH_WATERMARK_CHECKPOINT_FILE, highWatermarks);
  }

  /** LogManager.cleanupLogs: retention on every log. Returns the number of segments deleted. */
  cleanupLogs(nowMs: number): number {
    this.observeNow(nowMs);
    let deleted = 0;
    for (const log of this.allLogs()) deleted += log.deleteOldSegments(nowMs);
    return deleted;
  }

  /**
   * Routes a disk completion to the file bookkeeping of whichever log issued the op. Returns false
   * for an op the log layer did not issue (the broker's other writes), which is then ignored.
   */
  onDiskComplete(completion: DiskCompletion): boolean {
    return this.logDisk.onDiskComplete(completion);
  }

  /**
   * LogManager.asyncDelete: the log is removed and every file of its directory deleted (Kafka
   * renames the directory `-delete` and removes it later; not modelled). Returns whether it existed.
   */
  deleteLog(key: string): boolean {
    const log = this.logs.get(key);
    if (log === undefined) return false;
    this.logs.delete(key);
    log.markDeleted();
    for (const file of this.logDisk.list(`${key}/`)) this.logDisk.delete(file);
    return true;
  }

  private observeNow(nowMs: number): void {
    if (nowMs > this.nowMsSeen) this.nowMsSeen = nowMs;
  }

  /**
   * Partition directories on disk: `name-N/` prefixes holding a segment, a producer snapshot or
   * an epoch checkpoint, except the metadata log's.
   */
  private partitionDirs(): string[] {
    const dirs = new Set<string>();
    for (const file of this.logDisk.list('')) {
      const slash = file.indexOf('/');
      if (slash <= 0) continue;
      const dir = file.slice(0, slash);
      if (dir === CLUSTER_METADATA_DIR || !PARTITION_DIR.test(dir)) continue;
      if (parseOffsetFile(dir, file) !== undefined || file === epochCheckpointFileName(dir)) dirs.add(dir);
    }
    return [...dirs].sort();
  }

  private readCheckpoint(file: string): OffsetCheckpoint {
    const result = this.logDisk.read(file);
    if (!result.ok) {
      if (result.error === 'ENOENT') return {};
      throw new KafkaStorageException(`cannot read ${file}: ${result.error}`);
    }
    const chunk = result.chunks[0];
    if (chunk === undefined || chunk.torn === true || chunk.corrupt === true) return {};
    const payload = chunk.payload;
    return payload !== null && typeof payload === 'object' ? (payload as OffsetCheckpoint) : {};
  }

  private writeCheckpoint(file: string, content: OffsetCheckpoint): number {
    return this.logDisk.writeAtomic(file, Object.freeze(content), checkpointSizeBytes(Object.keys(content).length));
  }
}
