/**
 * A finding, in the shape of `run --json` (DESIGN.md): which check, when, where, and a one-line
 * cause. `evidence` carries what the report and the narrative are built from.
 */
export interface Violation {
  check: string;
  atMs: number;
  partition?: string;
  offset?: number;
  message: string;
  evidence?: Record<string, unknown>;
  /** The configuration that permits this finding ("acks=1"); absent for a violation. */
  permitted?: string;
}
