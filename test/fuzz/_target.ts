/**
 * A fuzz target: a named fast-check property. The unit test (fuzz_test.ts) runs every target a
 * few hundred times from a fixed seed; `npm run fuzz` (run.ts) runs them for millions of inputs.
 * @module
 */
import type fc from 'fast-check';

export interface FuzzTarget {
  /** "<module>: <what is checked>". */
  name: string;
  // One list holds properties of every input type.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  property: fc.IRawProperty<any>;
  /** Relative cost of one input (default 1): the runners give a target runs in inverse proportion. */
  cost?: number;
  /**
   * Inputs that reached the property's main check (a round trip done, a parse that succeeded),
   * counted by the target: the runners report it, so a property that is always skipped shows.
   */
  deep?: { count: number };
}

/** A counter for {@link FuzzTarget.deep}. */
export const counter = (): { count: number } => ({ count: 0 });
