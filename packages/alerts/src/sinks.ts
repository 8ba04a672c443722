import {
  type Client,
  createEventEnvelope,
  type DsnComponents,
  type Event,
  Scope,
  ServerRuntimeClient,
  type StackParser,
} from '@sentry/core';
import type { Sink } from './outbox.js';
import { makeHttpTransport, type SendOutcome } from './transport.js';

/** Options of the client this package creates for itself. */
export interface OwnClientOptions {
  dsn: string;
  environment?: string | undefined;
  release?: string | undefined;
  timeoutMs: number;
  stackParser: StackParser;
  now: () => number;
}

/**
 * A Sentry client of this package's own: a `ServerRuntimeClient` with no integrations, never
 * installed as the current client, so that an app's own Sentry setup is left as it is. Events are
 * built and scrubbed here and sent as envelopes (the app's global and isolation scopes never mix
 * in); the transport reports each request's outcome so that the outbox can retry.
 */
export function ownClientSink(o: OwnClientOptions): Sink & { client: ServerRuntimeClient } {
  let last: SendOutcome | undefined;
  const closing = new AbortController();
  const client = new ServerRuntimeClient({
    dsn: o.dsn,
    environment: o.environment,
    release: o.release,
    integrations: [],
    stackParser: o.stackParser,
    sendClientReports: false,
    transport: (options) =>
      makeHttpTransport(
        options,
        o.timeoutMs,
        o.now,
        (outcome) => {
          last = outcome;
        },
        closing.signal,
      ),
  });
  const dsn = client.getDsn() as DsnComponents;
  return {
    client,
    async send(event: Event): Promise<SendOutcome> {
      last = undefined;
      await client.sendEnvelope(createEventEnvelope(event, dsn, client.getSdkMetadata()));
      // No request at all: the transport is still inside a rate limit it was told of.
      return last ?? { kind: 'retry', afterMs: 1000 };
    },
    async close() {
      closing.abort();
      await client.close(0).then(
        () => undefined,
        () => undefined,
      );
    },
  };
}

/**
 * The app's own client: events go through `captureEvent` with a scope of this package's (the
 * app's current scope is neither read nor changed); the app's client queues and sends them.
 */
export function appClientSink(client: Client): Sink {
  const scope = new Scope();
  return {
    send(event: Event): SendOutcome {
      client.captureEvent(event, undefined, scope);
      return { kind: 'ok' };
    },
    close: () => Promise.resolve(),
  };
}

/** Without a DSN: one JSON line per event on stderr (or `write`). */
export function lineSink(write: (line: string) => void): Sink {
  return {
    send(event: Event): SendOutcome {
      const { exception, ...rest } = event;
      const ex = exception?.values?.[0];
      const line = {
        ...rest,
        ...(ex === undefined
          ? {}
          : {
              exception: {
                type: ex.type,
                value: ex.value,
                frames: ex.stacktrace?.frames
                  ?.slice(-10)
                  .reverse()
                  .map(
                    (f) =>
                      `${f.function ?? '?'} (${f.filename ?? '?'}:${f.lineno ?? 0}:${f.colno ?? 0})`,
                  ),
              },
            }),
      };
      write(JSON.stringify(line));
      return { kind: 'ok' };
    },
    close: () => Promise.resolve(),
  };
}
