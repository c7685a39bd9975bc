export { Simulator, type EventTarget, type EventId, type RunLimit, type RunResult, type StopReason, type SimulatorOptions } from './simulator.js';
export { EventQueue, type EventHandle } from './event-queue.js';
export { Random } from './random.js';
export { TraceHash, MemoryTraceSink, type TraceSink } from './trace.js';
export { SimulationError, InvariantError, invariant, checkDurationUs } from './errors.js';
export * from './time.js';
