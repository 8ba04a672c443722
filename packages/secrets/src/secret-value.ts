import { inspect } from 'node:util';

const REDACTED = '[secret]';
// A registered symbol: `isSecretValue` holds across copies of the package (the root entry and
// `@org/secrets/aws` are built apart, and an app may hold two versions).
const BRAND = Symbol.for('@org/secrets.value');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A secret's value, wrapped so that it cannot be printed by accident: `String(v)`, `` `${v}` ``,
 * `JSON.stringify(v)`, `console.log(v)` and `util.inspect(v)` all give `[secret]`. The value
 * lives in a private field (no enumerable property, nothing for a structured clone to copy);
 * {@link SecretValue.reveal} hands it out where it is used.
 */
export class SecretValue {
  readonly #value: string | Uint8Array;
  /** The secret's version id at the provider, when it has one (not secret). */
  readonly versionId: string | undefined;

  constructor(value: string | Uint8Array, versionId?: string) {
    this.#value = typeof value === 'string' ? value : Uint8Array.from(value);
    this.versionId = versionId;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Whether the secret was stored as bytes (Secrets Manager's `SecretBinary`). */
  get binary(): boolean {
    return typeof this.#value !== 'string';
  }

  /** The value as text (bytes are decoded as UTF-8). */
  reveal(): string {
    return typeof this.#value === 'string' ? this.#value : decoder.decode(this.#value);
  }

  /** The value as bytes (text is encoded as UTF-8); a fresh copy each call. */
  revealBytes(): Uint8Array {
    return typeof this.#value === 'string' ? encoder.encode(this.#value) : this.#value.slice();
  }

  /** Whether `other` holds the same value, compared without revealing either. */
  equals(other: SecretValue): boolean {
    const a = this.revealBytes();
    const b = other.revealBytes();
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
    return diff === 0;
  }

  /** Always `[secret]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[secret]`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Always `[secret]`. */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  /** What `util.inspect` and `console.log` print: `[secret]`. */
  [inspect.custom](): string {
    return REDACTED;
  }

  get [Symbol.toStringTag](): string {
    return 'SecretValue';
  }
}

/** Whether `value` is a {@link SecretValue}, from any copy of the package. */
export function isSecretValue(value: unknown): value is SecretValue {
  return (
    typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true
  );
}
