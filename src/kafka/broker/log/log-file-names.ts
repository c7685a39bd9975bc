/**
 * File names inside a partition directory, as Kafka names them (LogFileUtils.java): a segment is
 * `<baseOffset padded to 20 digits>.log`, a producer snapshot `<offset padded to 20>.snapshot`, and
 * the leader epoch cache lives in `leader-epoch-checkpoint`. The simulated disk has no directories:
 * a file of partition `orders-0` is named `orders-0/00000000000000000000.log`.
 */

const OFFSET_DIGITS = 20;
const SEGMENT_SUFFIX = '.log';
const SNAPSHOT_SUFFIX = '.snapshot';
const OFFSET_FILE = /^(\d{20})\.(log|snapshot)$/;

/** LogFileUtils.filenamePrefixFromOffset. */
export function offsetFilePrefix(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0');
}

export function segmentFileName(dir: string, baseOffset: number): string {
  return `${dir}/${offsetFilePrefix(baseOffset)}${SEGMENT_SUFFIX}`;
}

export function snapshotFileName(dir: string, offset: number): string {
  return `${dir}/${offsetFilePrefix(offset)}${SNAPSHOT_SUFFIX}`;
}

export function epochCheckpointFileName(dir: string): string {
  return `${dir}/leader-epoch-checkpoint`;
}

/** The offset and kind of a segment or snapshot file of `dir`, or undefined for any other file. */
export function parseOffsetFile(dir: string, file: string): { offset: number; kind: 'log' | 'snapshot' } | undefined {
  if (!file.startsWith(`${dir}/`)) return undefined;
  const match = OFFSET_FILE.exec(file.slice(dir.length + 1));
  if (match === null) return undefined;
  return { offset: Number(match[1]), kind: match[2] as 'log' | 'snapshot' };
}
