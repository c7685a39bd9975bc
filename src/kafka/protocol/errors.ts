/**
 * Kafka's error codes, with Kafka's numbers and names
 * (clients/src/main/java/org/apache/kafka/common/protocol/Errors.java). `retriable` is whether the
 * Java exception extends RetriableException: clients retry those, and give up on the rest.
 */
export const Errors = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_CONTROLLER: 41,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  OPERATION_NOT_ATTEMPTED: 55,
  KAFKA_STORAGE_ERROR: 56,
  UNKNOWN_PRODUCER_ID: 59,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  STALE_BROKER_EPOCH: 77,
  OFFSET_NOT_AVAILABLE: 78,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  INVALID_UPDATE_VERSION: 95,
  INELIGIBLE_REPLICA: 107,
  NEW_LEADER_ELECTED: 108,
  DUPLICATE_BROKER_REGISTRATION: 101,
  INVALID_REQUEST: 42,
  // Group coordinator (classic protocol) errors, with Errors.java's numbers.
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  UNSTABLE_OFFSET_COMMIT: 88,
} as const;

export type ErrorName = keyof typeof Errors;
export type ErrorCode = (typeof Errors)[ErrorName];

const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  Errors.CORRUPT_MESSAGE,
  Errors.UNKNOWN_TOPIC_OR_PARTITION,
  Errors.LEADER_NOT_AVAILABLE,
  Errors.NOT_LEADER_OR_FOLLOWER,
  Errors.REQUEST_TIMED_OUT,
  Errors.REPLICA_NOT_AVAILABLE,
  Errors.NOT_CONTROLLER,
  Errors.NOT_ENOUGH_REPLICAS,
  Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  Errors.KAFKA_STORAGE_ERROR,
  Errors.FENCED_LEADER_EPOCH,
  Errors.UNKNOWN_LEADER_EPOCH,
  Errors.OFFSET_NOT_AVAILABLE,
  Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE,
  // CoordinatorLoadInProgressException, CoordinatorNotAvailableException, NotCoordinatorException and
  // UnstableOffsetCommitException extend RetriableException; the other group errors do not.
  Errors.COORDINATOR_LOAD_IN_PROGRESS,
  Errors.COORDINATOR_NOT_AVAILABLE,
  Errors.NOT_COORDINATOR,
  Errors.UNSTABLE_OFFSET_COMMIT,
]);

const NAMES = new Map<number, ErrorName>(Object.entries(Errors).map(([name, code]) => [code, name as ErrorName]));

export function isRetriable(code: ErrorCode): boolean {
  return RETRIABLE.has(code);
}

export function errorName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_ERROR_${code}`;
}
