import { parentPort, workerData } from 'node:worker_threads';
import type { Scenario } from '../scenario/load.js';
import { runSeed, type Job } from './search.js';

/** A `check` worker thread: holds the scenario, runs one seed (or shrink candidate) per message. */
const scenario = (workerData as { scenario: Scenario }).scenario;
const port = parentPort;
if (port === null) throw new Error('check-worker runs only as a worker thread');
port.on('message', (job: Job) => {
  try {
    port.postMessage({ outcome: runSeed(scenario, job.seed, job.faults) });
  } catch (e) {
    const err = e as Error;
    port.postMessage({ error: { name: err.name ?? 'Error', message: String(err.message ?? e), stack: err.stack } });
  }
});
