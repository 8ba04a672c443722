import type { Unsubscribe } from './events.js';

/** A change of state one instance tells the others about. */
export type SharedStateEvent =
  | { state: 'open'; openUntil: number; trips: number; origin: string }
  | { state: 'closed'; origin: string };

/**
 * Where breakers of several instances of an app share their state, so that when one instance
 * opens a breaker the others open too, and only one instance at a time sends the half-open
 * probe. `@org/resilience/redis` has the Redis implementation. Every method must settle within
 * a bounded time; a store that fails leaves each breaker deciding on its own.
 */
export interface BreakerStateStore {
  /** This instance's id: events it published itself are ignored when they come back. */
  readonly instanceId: string;
  /** Tells the other instances that breaker `name` opened or closed. */
  publish(name: string, event: SharedStateEvent): Promise<void>;
  /** Calls `listener` when another instance publishes for `name`. */
  subscribe(name: string, listener: (event: SharedStateEvent) => void): Unsubscribe;
  /** The open period another instance recorded for `name`, if one is in force. */
  load?(name: string): Promise<SharedStateEvent | undefined>;
  /** Takes the right to probe `name` for `ttlMs`; false when another instance holds it. */
  acquireProbe(name: string, ttlMs: number): Promise<boolean>;
  /** Gives the probe right back early. */
  releaseProbe?(name: string): Promise<void>;
}
