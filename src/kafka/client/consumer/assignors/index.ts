/** Kafka's consumer partition assignors: `assign` and its types. */
export { assign, AssignorInputError } from './assign.js';
export {
  ASSIGNMENT_STRATEGIES,
  type AssignmentStrategy,
  type AssignorMember,
  type GroupAssignment,
  type PartitionsPerTopic,
  type TopicPartition,
} from './types.js';
