import { channelName, Emitter } from '@org/core';
import type { AlertsError } from './errors.js';

/** Payloads of the alerts' events, by name: one object each. */
export type AlertsEvents = {
  /**
   * Events were dropped: the queue was full (`queueFull`), the instance was closed (`closed`),
   * or Sentry refused the event for good (`rejected`, with its status code).
   */
  dropped: { reason: 'queueFull' | 'closed' | 'rejected'; count: number; statusCode?: number };
  /** A fingerprint reached its maximum in the window: further events are counted, not sent. */
  throttled: { fingerprint: readonly string[]; max: number; windowMs: number };
  /** Sending failed (network, timeout, 5xx, 429); the event stays queued for `retryInMs`. */
  sendFailed: { error: AlertsError; retryInMs: number; queued: number; statusCode?: number };
};

/** Names of the alerts' events. */
export type AlertsEventName = keyof AlertsEvents;

const EVENTS: readonly AlertsEventName[] = ['dropped', 'throttled', 'sendFailed'];

/** The `node:diagnostics_channel` name of every event, `org:alerts:<event>`. */
export const diagnosticsChannels = Object.freeze(
  Object.fromEntries(EVENTS.map((e) => [e, channelName('alerts', e)])),
) as { readonly [K in AlertsEventName]: `org:alerts:${K}` };

/** The emitter of one alerts instance. */
export function createAlertsEmitter(): Emitter<AlertsEvents> {
  return new Emitter<AlertsEvents>('alerts');
}
