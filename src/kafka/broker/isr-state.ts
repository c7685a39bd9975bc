/**
 * The ISR as a leader holds it while AlterPartition round trips to the controller
 * (core/src/main/scala/kafka/cluster/Partition.scala, PartitionState). One change is in flight
 * at a time. The maximal ISR is the stricter set for the high watermark and acks=all: a
 * replica being added counts at once, and one being removed counts until the controller commits
 * the shrink.
 */
export type IsrState =
  | { readonly kind: 'committed'; readonly isr: readonly number[] }
  | { readonly kind: 'pending-expand'; readonly isr: readonly number[]; readonly maximalIsr: readonly number[]; readonly newInSync: number }
  | { readonly kind: 'pending-shrink'; readonly isr: readonly number[]; readonly maximalIsr: readonly number[]; readonly outOfSync: readonly number[] };

export function committed(isr: readonly number[]): IsrState {
  return { kind: 'committed', isr };
}

export function maximalIsr(state: IsrState): readonly number[] {
  return state.kind === 'committed' ? state.isr : state.maximalIsr;
}

export function isInflight(state: IsrState): boolean {
  return state.kind !== 'committed';
}

/** The ISR proposed to the controller by a pending change. */
export function proposedIsr(state: IsrState): readonly number[] {
  if (state.kind === 'pending-expand') return state.maximalIsr;
  if (state.kind === 'pending-shrink') return state.isr.filter((id) => !state.outOfSync.includes(id));
  return state.isr;
}
