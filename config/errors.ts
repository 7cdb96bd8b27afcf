/**
 * The errors config/ throws: a `ConfigError` naming the field of `warren.config.ts` and the fix. It is defined in
 * runtime/errors.ts (handler options are checked inside the handler's bundle with the same error) and re-exported here,
 * so config/ and the users of `warren/config` import it from their own room.
 */
export { ConfigError, WarrenError } from '../runtime/errors.js';
