import type { Unsubscribe } from '@org/core';

/** A change of state one instance tells the others about. `openUntil` is ms since the epoch. */
export type SharedStateEvent =
  | { state: 'open'; openUntil: number; trips: number; origin: string }
  | { state: 'closed'; origin: string };

/**
 * Where breakers of several instances of an app share their state, so that when one instance
 * opens a breaker the others open too, and only one instance at a time sends the half-open
 * probe. `createMemoryStateStore` shares it within a process, `@org/resilience/redis` across
 * processes; `@org/resilience/testing` has the suite an implementation must pass. Every method
 * must settle within a bounded time; a store that fails leaves each breaker deciding on its own.
 */
export interface BreakerStateStore {
  /** This instance's id: events it published itself are ignored when they come back. */
  readonly instanceId: string;
  /**
   * Tells every instance (this one included) that breaker `name` opened or closed. An open
   * state is kept until its `openUntil`, for `load`; a closed one removes it.
   */
  publish(name: string, event: SharedStateEvent): Promise<void>;
  /** Calls `listener` when an instance publishes for `name`. */
  subscribe(name: string, listener: (event: SharedStateEvent) => void): Unsubscribe;
  /** The open period an instance recorded for `name`, if one is in force. */
  load?(name: string): Promise<SharedStateEvent | undefined>;
  /**
   * Takes the right to probe `name` for `ttlMs` milliseconds; false while any instance (this
   * one included) holds it.
   */
  acquireProbe(name: string, ttlMs: number): Promise<boolean>;
  /** Gives the probe right back early, if this instance holds it. */
  releaseProbe?(name: string): Promise<void>;
  /** Releases what the store holds (connections, subscriptions). Idempotent. */
  close?(): Promise<void>;
}
