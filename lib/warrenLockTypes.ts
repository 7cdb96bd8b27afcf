/** The shape of `warren.lock.json` (lib/warrenLock.ts reads and writes it), apart so lib/errors.ts can name its types. */

/** The resource kinds whose create-only properties are recorded, by Warren's name for them. */
export type LockedResource = 'Broker' | 'BrokerConfiguration' | 'DatabaseInstance' | 'DatabaseProxy';

export interface WarrenLock {
  /** Handler name -> nested stack id (`Handlers<n>`). */
  readonly handlers: Readonly<Record<string, string>>;
  /** Resource -> create-only property -> its value as synthesized (tokens resolved to `Ref`/`Fn::*` objects). */
  readonly createOnly: Readonly<Partial<Record<LockedResource, Readonly<Record<string, unknown>>>>>;
}

/** `write`: synth adds entries (and bin/warren.ts writes the file); `locked`: a missing entry fails synth (CI). */
export const LOCK_MODES = ['write', 'locked'] as const;
export type LockMode = (typeof LOCK_MODES)[number];

export const WARREN_LOCK_FILE = 'warren.lock.json';
