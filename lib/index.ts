/**
 * `warren/cdk`: what a team's CDK entry imports. `createWarrenApp()` reads the team's `warren.config.ts`, the
 * `warren:*` context and `warren.lock.json` and builds the stack; `saveLock()` writes the record back when the synth
 * placed something new (commit it: docs/changing-a-deployed-app.md). The constructs are for a team that builds its
 * own stack around Warren's parts.
 */
export { createWarrenApp, type WarrenAppOptions } from './app.js';
export { saveLock, WARREN_LOCK_FILE, type LockMode, type WarrenLock } from './warrenLock.js';
export { WarrenStack, WARREN_STACK_DEFAULTS, type WarrenStackProps } from './WarrenStack.js';
export { WarrenAccountConcurrency, type WarrenAccountConcurrencyProps } from './WarrenAccountConcurrency.js';
export { WarrenBroker, type ExistingBroker, type WarrenBrokerProps } from './WarrenBroker.js';
export { WarrenBrokerMonitor, type WarrenBrokerMonitorProps } from './WarrenBrokerMonitor.js';
export { WarrenBrokerUser, type WarrenBrokerUserProps } from './WarrenBrokerUser.js';
export { WarrenDatabase, type ExistingDatabase, type WarrenDatabaseProps } from './WarrenDatabase.js';
export { WarrenFunction, type WarrenFunctionProps } from './WarrenFunction.js';
export { WarrenHandler, type WarrenHandlerProps } from './WarrenHandler.js';
export { WarrenHandlerGroup, type WarrenHandlerGroupProps } from './WarrenHandlerGroup.js';
export { WarrenMigrations, type WarrenMigrationsProps } from './WarrenMigrations.js';
export { WarrenNetwork, type ExistingNetwork, type WarrenNetworkProps } from './WarrenNetwork.js';
export { WarrenOutboxRelay, type WarrenOutboxRelayProps } from './WarrenOutboxRelay.js';
export { WarrenPruner, type WarrenPrunerProps } from './WarrenPruner.js';
export { WarrenTopology, type WarrenTopologyProps } from './WarrenTopology.js';
export { WarrenTriggerTeardown, type WarrenTriggerTeardownProps } from './WarrenTriggerTeardown.js';
