/**
 * The member order of the range and round-robin assignors: static members (with a
 * `group.instance.id`) first, by instance id, then dynamic members by member id.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/internals/AbstractPartitionAssignor.java
 * (MemberInfo.compareTo). Java's String.compareTo compares UTF-16 code units, as JavaScript's `<`
 * does, so `compareJavaStrings` never uses localeCompare.
 */
import type { Subscription } from './types.js';

/** Java's String.compareTo, reduced to its sign. */
export function compareJavaStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** MemberInfo.compareTo. */
export function compareMemberInfo(a: Subscription, b: Subscription): number {
  if (a.groupInstanceId !== undefined && b.groupInstanceId !== undefined) {
    return compareJavaStrings(a.groupInstanceId, b.groupInstanceId);
  } else if (a.groupInstanceId !== undefined) {
    return -1;
  } else if (b.groupInstanceId !== undefined) {
    return 1;
  }
  return compareJavaStrings(a.memberId, b.memberId);
}

/** The members sorted as Collections.sort(List<MemberInfo>) sorts them (a stable sort). */
export function sortedMemberInfos(members: readonly Subscription[]): Subscription[] {
  return [...members].sort(compareMemberInfo);
}
