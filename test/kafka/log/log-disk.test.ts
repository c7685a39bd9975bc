import { describe, expect, it } from 'vitest';
import type { DiskCompletion } from '../../../src/world/disk.js';
import { LogDisk } from '../../../src/kafka/broker/log/log-disk.js';
import { DiskRig } from './log-rig.js';

const F = 'p-0/00000000000000000000.log';

/** A LogDisk whose completions are held back until `deliver`, as a paused process gets them late. */
function pausedRig() {
  const rig = new DiskRig({ writeLatency: { distribution: 'constant', ms: 1 } });
  const files = new LogDisk(rig.handle);
  const held: DiskCompletion[] = [];
  rig.route((c) => held.push(c));
  const deliver = () => {
    for (const c of held.splice(0)) files.onDiskComplete(c);
  };
  const payloads = () => rig.disk.cacheChunks(F).map((c) => c.payload);
  return { rig, files, deliver, payloads };
}

describe('LogDisk: truncations and deletions stay in order with queued writes', () => {
  it('a truncate waits for the file’s writes in flight; later appends wait for the truncate', () => {
    const { rig, files, deliver, payloads } = pausedRig();
    for (const p of ['a', 'b', 'c']) files.append(F, p, 10);
    files.truncate(F, 1);
    expect(files.append(F, 'd', 10)).toBe(-1); // held
    rig.drain();
    expect(payloads()).toEqual(['a', 'b', 'c']); // the completions have not reached the process yet
    // What the log reads is what it wrote: the landed prefix it kept, then the held append.
    expect(files.read(F)).toMatchObject({ ok: true, chunks: [{ payload: 'a' }, { payload: 'd' }] });
    deliver();
    rig.drain();
    deliver();
    expect(payloads()).toEqual(['a', 'd']);
    expect(files.opsInFlight).toBe(0);
  });

  it('a delete of a file with writes in flight is not undone by them', () => {
    const { rig, files, deliver, payloads } = pausedRig();
    files.append(F, 'a', 10);
    files.delete(F);
    expect(files.exists(F)).toBe(false);
    expect(files.list('p-0/')).toEqual([]);
    rig.drain();
    deliver();
    expect(rig.handle.exists(F)).toBe(false);
    files.append(F, 'b', 10);
    rig.drain();
    deliver();
    expect(payloads()).toEqual(['b']);
  });

  it('a file re-created while its deletion waits gets only the new writes', () => {
    const { rig, files, deliver, payloads } = pausedRig();
    files.append(F, 'old', 10);
    files.delete(F);
    files.append(F, 'new', 10);
    rig.drain();
    deliver();
    rig.drain();
    deliver();
    expect(payloads()).toEqual(['new']);
  });

  it('fsyncThen during a deferred truncate calls back once the held appends are durable', () => {
    const { rig, files, deliver } = pausedRig();
    files.append(F, 'a', 10);
    files.append(F, 'b', 10);
    files.truncate(F, 1);
    files.append(F, 'c', 10);
    let durableAt: unknown[] | undefined;
    const opId = files.fsyncThen(F, () => {
      durableAt = rig.disk.durableChunks(F).map((c) => c.payload);
    });
    expect(opId).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) {
      rig.drain();
      deliver();
    }
    expect(durableAt).toEqual(['a', 'c']);
  });

  it('an atomic write supersedes a deferred delete', () => {
    const { rig, files, deliver, payloads } = pausedRig();
    files.writeAtomic(F, 'v1', 10);
    files.delete(F);
    files.writeAtomic(F, 'v2', 10);
    rig.drain();
    deliver();
    expect(payloads()).toEqual(['v2']);
  });

  it('a failed write takes the directory offline', () => {
    const rig = new DiskRig({ capacityBytes: 15 });
    const files = new LogDisk(rig.handle);
    rig.route((c) => files.onDiskComplete(c));
    files.append(F, 'a', 10);
    files.append(F, 'b', 10);
    rig.drain();
    expect(files.failed).toBe('ENOSPC');
  });
});
