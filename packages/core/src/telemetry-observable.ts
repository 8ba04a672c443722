/**
 * Observable instruments: values read at each collection (a size, a state, an age) instead of
 * recorded where something changes. A package adds one source per live object and removes it on
 * close; each instrument keeps its sources and, once a meter provider is registered, one callback
 * on that provider's instrument that reads them all.
 *
 * Sources hold their object weakly: an object the app drops without closing it is collected, and
 * its source leaves on its own. With no SDK registered, a source is a WeakRef in a set: nothing
 * of the API is loaded and no callback is handed to anyone.
 */
import type * as OtelApi from '@opentelemetry/api';
import type { TelemetryAttributes } from './telemetry.js';
import { registeredMeterProvider } from './telemetry-api.js';

/** The kinds of instrument whose values are read at each collection. */
export type ObservableKind = 'observableGauge' | 'observableCounter' | 'observableUpDownCounter';

/** Every {@link ObservableKind}, for validation. */
export const OBSERVABLE_KINDS: readonly ObservableKind[] = [
  'observableGauge',
  'observableCounter',
  'observableUpDownCounter',
];

/** What a source's callback reports into during one collection. */
export interface ObservableResult {
  /** Reports `value` for one attribute set (one time series). */
  observe(value: number, attributes?: TelemetryAttributes): void;
}

/**
 * Reads `target` during a collection and reports its values with `result.observe(value,
 * attributes)`. It must not close over `target` (it receives it): a callback that holds it keeps
 * it alive.
 */
export type ObservableCallback<T extends object> = (target: T, result: ObservableResult) => void;

interface Source {
  readonly ref: WeakRef<object>;
  readonly read: ObservableCallback<object>;
}

// A collected object's source leaves its set (the held value names both; neither holds it).
const collected = new FinalizationRegistry<{ set: Set<Source>; source: Source }>(
  ({ set, source }) => void set.delete(source),
);

/** One observable instrument's sources, and its callback on the current provider's meter. */
export class ObservableSources {
  readonly #sources = new Set<Source>();
  #attached: { instrument: OtelApi.Observable; callback: OtelApi.ObservableCallback } | undefined;

  /** Adds a source; returns the function that removes it (idempotent). */
  add<T extends object>(target: T, read: ObservableCallback<T>): () => void {
    const source: Source = { ref: new WeakRef(target), read: read as ObservableCallback<object> };
    const set = this.#sources;
    set.add(source);
    collected.register(target, { set, source }, source);
    return () => {
      if (set.delete(source)) collected.unregister(source);
    };
  }

  /**
   * Makes the instrument on `meter` (the meter of `provider`) and hands it the one callback that
   * reads every source, after taking that callback off the previous provider's instrument.
   */
  attach(
    meter: OtelApi.Meter,
    provider: object,
    kind: ObservableKind,
    name: string,
    options: OtelApi.MetricOptions,
  ): void {
    this.detach();
    const instrument =
      kind === 'observableGauge'
        ? meter.createObservableGauge(name, options)
        : kind === 'observableCounter'
          ? meter.createObservableCounter(name, options)
          : meter.createObservableUpDownCounter(name, options);
    const sources = this.#sources;
    const callback: OtelApi.ObservableCallback = (result) => {
      // A provider that was replaced or removed but is still collected gets nothing more, as
      // sync instruments record nothing more into it.
      if (registeredMeterProvider() !== provider) return;
      for (const source of sources) {
        const target = source.ref.deref();
        if (target === undefined) {
          sources.delete(source);
          continue;
        }
        try {
          source.read(target, result);
        } catch {
          // A source's bug must not cost the other sources, or the other instruments, their
          // collection.
        }
      }
    };
    instrument.addCallback(callback);
    this.#attached = { instrument, callback };
  }

  /** Takes the callback off the instrument it was handed to, if any. */
  detach(): void {
    const attached = this.#attached;
    if (attached === undefined) return;
    this.#attached = undefined;
    attached.instrument.removeCallback(attached.callback);
  }
}
