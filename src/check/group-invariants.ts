import type { Violation } from './violation.js';

/** A history entry as the world records it: when, which node, what. */
export interface GroupHistoryItem {
  readonly timeUs: number;
  readonly node: number;
  readonly entry: { readonly type: string } & Record<string, unknown>;
}

type Assignments = Record<string, readonly { topic: string; partition: number }[]>;

/**
 * `no-double-assignment`: within one consumer group and one generation, no partition is given to
 * two members. Read from the coordinators' history: `group-stable` (the assignment SyncGroup
 * settled for a generation) and `group-loaded` (a coordinator that took over the group's
 * __consumer_offsets partition and replayed it). A static member replaced within a generation
 * (`group-static-member-replaced`) hands its partitions to the new member id, which is not a
 * double assignment: the old id is fenced. Two coordinators that each think they own the group
 * (a zombie coordinator) can settle one generation twice; if they give a partition to different
 * members, that is the violation this check exists for.
 */
export function checkNoDoubleAssignment(history: readonly GroupHistoryItem[]): Violation[] {
  const out: Violation[] = [];
  /** group → generation → "topic-partition" → member */
  const owners = new Map<string, Map<number, Map<string, string>>>();
  const reported = new Set<string>();
  for (const { timeUs, node, entry } of history) {
    const groupId = entry.groupId as string;
    if (entry.type === 'group-static-member-replaced') {
      const generation = owners.get(groupId)?.get(entry.generationId as number);
      if (generation === undefined) continue;
      for (const [tp, member] of generation) if (member === entry.oldMemberId) generation.set(tp, entry.newMemberId as string);
      continue;
    }
    if (entry.type !== 'group-stable' && entry.type !== 'group-loaded') continue;
    const generationId = entry.generationId as number;
    let byGeneration = owners.get(groupId);
    if (byGeneration === undefined) owners.set(groupId, (byGeneration = new Map()));
    let generation = byGeneration.get(generationId);
    if (generation === undefined) byGeneration.set(generationId, (generation = new Map()));
    for (const [member, partitions] of Object.entries((entry.assignments ?? {}) as Assignments)) {
      for (const { topic, partition } of partitions) {
        const tp = `${topic}-${partition}`;
        const owner = generation.get(tp);
        if (owner === undefined) {
          generation.set(tp, member);
          continue;
        }
        if (owner === member) continue;
        const key = `${groupId}/${generationId}/${tp}`;
        if (reported.has(key)) continue;
        reported.add(key);
        out.push({
          check: 'no-double-assignment',
          atMs: timeUs / 1000,
          partition: tp,
          message: `group ${groupId} generation ${generationId} gives ${tp} to ${owner} and to ${member} (coordinator on broker ${node})`,
          evidence: { groupId, generationId, partition: tp, members: [owner, member], coordinator: node },
        });
      }
    }
  }
  return out;
}

/**
 * `monotonic-committed-offsets`: once the coordinator has acknowledged a commit (its OffsetCommit
 * record is replicated: `offset-commit`), the group's committed offset for that partition never
 * goes below it, unless the group itself later commits a lower one. It is checked where the
 * offset could go back without anyone committing it: each time a coordinator loads a
 * __consumer_offsets partition (`group-loaded` for each group it finds, then
 * `group-partition-loaded`), for instance after an unclean election or a power loss took the
 * tail of that partition's log. A group missing from the load has lost every offset.
 */
export function checkMonotonicCommittedOffsets(history: readonly GroupHistoryItem[]): Violation[] {
  const out: Violation[] = [];
  /** "group/topic-partition" → the last acknowledged commit, and the group's coordinator partition */
  const last = new Map<string, { groupId: string; tp: string; offset: number; atMs: number; coordinatorPartition: number }>();
  /** What the load in progress found: group → "topic-partition" → offset */
  let loading = new Map<string, Map<string, number>>();
  for (const { timeUs, node, entry } of history) {
    if (entry.type === 'offset-commit') {
      if (typeof entry.offset !== 'number') continue; // a tombstone (expiry) is not a commit
      const groupId = entry.groupId as string;
      const tp = `${entry.topic as string}-${entry.partition as number}`;
      last.set(`${groupId}/${tp}`, { groupId, tp, offset: entry.offset, atMs: timeUs / 1000, coordinatorPartition: entry.coordinatorPartition as number });
      continue;
    }
    if (entry.type === 'group-loaded') {
      const offsets = new Map<string, number>();
      for (const o of (entry.offsets ?? []) as { topic: string; partition: number; offset: number }[]) offsets.set(`${o.topic}-${o.partition}`, o.offset);
      loading.set(entry.groupId as string, offsets);
      continue;
    }
    if (entry.type !== 'group-partition-loaded') continue;
    const partition = entry.partition as number;
    for (const [key, committed] of last) {
      if (committed.coordinatorPartition !== partition) continue;
      const now = loading.get(committed.groupId)?.get(committed.tp);
      if (now !== undefined && now >= committed.offset) continue;
      out.push({
        check: 'monotonic-committed-offsets',
        atMs: timeUs / 1000,
        partition: committed.tp,
        offset: committed.offset,
        message: `group ${committed.groupId} committed ${committed.tp} at offset ${committed.offset} (acknowledged at ${committed.atMs.toFixed(3)} ms), but the coordinator on broker ${node} loaded ${now === undefined ? 'no offset' : `offset ${now}`}`,
        evidence: { groupId: committed.groupId, partition: committed.tp, committed: committed.offset, committedAtMs: committed.atMs, loaded: now ?? null, coordinator: node, coordinatorPartition: partition },
      });
      // Report each loss once: what was loaded is the baseline from now on.
      if (now === undefined) last.delete(key);
      else last.set(key, { ...committed, offset: now, atMs: timeUs / 1000 });
    }
    loading = new Map();
  }
  return out;
}
