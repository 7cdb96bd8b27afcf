/**
 * `warren/cdk`: the CDK side. A team's CDK entry is usually two lines (`await synthWarrenApp()`); `createWarrenApp`
 * and `WarrenStack` are there for an app that adds its own stacks, and the constructs for one that builds its own.
 */
export { createWarrenApp, synthWarrenApp, type WarrenAppOptions } from './app.js';
export { WarrenStack, WARREN_STACK_DEFAULTS, type WarrenStackProps } from './WarrenStack.js';
export { WarrenBroker, WARREN_BROKER_DEFAULTS, DEFAULT_RABBITMQ_ENGINE_VERSION, type ExistingBroker, type WarrenBrokerProps, type BrokerDeploymentMode } from './WarrenBroker.js';
export { WarrenDatabase, WARREN_DATABASE_DEFAULTS, MYSQL_ENGINE_VERSION, type ExistingDatabase, type WarrenDatabaseProps, type DatabaseStage } from './WarrenDatabase.js';
export { WarrenNetwork, WARREN_NETWORK_DEFAULTS, type ExistingNetwork, type WarrenNetworkProps } from './WarrenNetwork.js';
export { WarrenFunction, WARREN_FUNCTION_DEFAULTS, type WarrenFunctionProps } from './WarrenFunction.js';
export { WarrenHandler, WARREN_HANDLER_DEFAULTS, type WarrenHandlerProps } from './WarrenHandler.js';
export { WarrenOutboxRelay, WARREN_RELAY_DEFAULTS, type WarrenOutboxRelayProps } from './WarrenOutboxRelay.js';
export { WarrenPruner, WARREN_PRUNER_DEFAULTS, type WarrenPrunerProps } from './WarrenPruner.js';
export { WarrenBrokerUser, WARREN_BROKER_USER_DEFAULTS, type WarrenBrokerUserProps } from './WarrenBrokerUser.js';
export { WarrenBrokerMonitor, WARREN_BROKER_MONITOR_DEFAULTS, type WarrenBrokerMonitorProps } from './WarrenBrokerMonitor.js';
export { WarrenMigrations, type WarrenMigrationsProps } from './WarrenMigrations.js';
export { saveLock, WARREN_LOCK_FILE, type LockMode, type WarrenLock } from './warrenLock.js';
export {
  AccountConcurrencyError, ConfigError, ConnectionBudgetError, MigrationConnectError, MigrationError, ProxyConnectionBudgetError,
  ReplacementRefusedError, StaleLockError, WarrenError,
} from './errors.js';
export { WarrenAccountConcurrency, type WarrenAccountConcurrencyProps } from './WarrenAccountConcurrency.js';
export { WarrenHandlerGroup, type WarrenHandlerGroupProps } from './WarrenHandlerGroup.js';
export { WarrenTopology, type WarrenTopologyProps } from './WarrenTopology.js';
export { WarrenTriggerTeardown, type WarrenTriggerTeardownProps } from './WarrenTriggerTeardown.js';
