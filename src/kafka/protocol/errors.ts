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
]);

const NAMES = new Map<number, ErrorName>(Object.entries(Errors).map(([name, code]) => [code, name as ErrorName]));

export function isRetriable(code: ErrorCode): boolean {
  return RETRIABLE.has(code);
}

export function errorName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_ERROR_${code}`;
}
