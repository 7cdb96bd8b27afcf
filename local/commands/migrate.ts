/** The migrate step of `warren migrate` and `warren start`: the code lives in runtime/db/migrate.ts (the test kit uses it too). */
export { ensureDatabase, migrate } from '../../runtime/db/migrate.js';
