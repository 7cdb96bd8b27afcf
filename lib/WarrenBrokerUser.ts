/**
 * The application broker user: the MQ triggers (`BASIC_AUTH`), the handlers' `ctx.publish` and the outbox relay log
 * in as it, so none of them holds the administrator's password. Its password is generated into a secret of its own;
 * a custom resource (lib/functions/brokerUserResource.ts) creates the user through the management API as the administrator
 * and sets its permissions per vhost (topology/brokerPermissions.ts): read on the shard queues, write on the
 * `publishes` exchanges, configure on nothing. It runs after the topology resource (the vhosts and queues exist) and
 * the triggers run after it.
 */
import { CustomResource, Duration, Validations } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IDependable } from 'constructs';
import { brokerAppPermissions } from '../topology/brokerPermissions.js';
import { ConfigError } from './errors.js';
import { WARREN_BROKER_DEFAULTS } from './WarrenBroker.js';
import { brokerAdminFunction, type BrokerAdminFunctionProps } from './brokerAdminFunction.js';
import type { WarrenFunction } from './WarrenFunction.js';
import { warrenProvider } from './warrenProvider.js';

export interface WarrenBrokerUserProps extends BrokerAdminFunctionProps {
  /** Created after these (the topology resource: it creates the vhosts). */
  readonly dependsOn: readonly IDependable[];
  /** @default 'warren_app' */
  readonly username?: string;
}

export const WARREN_BROKER_USER_DEFAULTS = { username: 'warren_app' } as const;

export class WarrenBrokerUser extends Construct {
  /** `{"username", "password"}` of the application user: what triggers, handlers and the relay read. */
  public readonly secret: secretsmanager.Secret;
  public readonly username: string;
  public readonly function: WarrenFunction;
  public readonly resource: CustomResource;

  public constructor(scope: Construct, id: string, props: WarrenBrokerUserProps) {
    super(scope, id);
    this.username = props.username ?? WARREN_BROKER_USER_DEFAULTS.username;
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(this.username) || this.username === 'guest') {
      throw new ConfigError('brokerAppUser', `expected letters, digits, _ . or - (not "guest", which Amazon MQ deletes), received ${JSON.stringify(this.username)}`);
    }
    if (this.username === WARREN_BROKER_DEFAULTS.username) throw new ConfigError('brokerAppUser', `"${this.username}" is the broker's administrator; pick another name`);

    // The secret, in the shape MQ triggers read (same character rules as the administrator's).
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: `Amazon MQ application user ${this.username} for Warren (MQ triggers, ctx.publish, outbox relay): read on shard queues, write on publishes exchanges`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: this.username }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludeCharacters: ',:=/@"\'\\`[]{}%+&#?<> ',
      },
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Amazon MQ has no Secrets Manager rotation integration; rotate by updating the secret and re-running this resource (it sets the password again).',
    });

    // The onEvent function: in the VPC (the management API is private), reads both secrets.
    this.function = brokerAdminFunction(this, 'OnEvent', props, {
      entry: ownFunctionEntry('brokerUserResource'),
      timeout: Duration.minutes(5),
      description: 'Creates the Warren application user on the broker (management API)',
    });
    this.secret.grantRead(this.function);

    const provider = warrenProvider(this, 'Provider', this.function, props.logRetention);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WarrenBrokerUser',
      properties: {
        ConsoleUrl: props.broker.consoleUrl,
        AdminSecretArn: props.broker.secret.secretArn,
        AppSecretArn: this.secret.secretArn,
        Permissions: JSON.stringify(brokerAppPermissions(props.handlers)),
      },
    });
    for (const dependency of props.dependsOn) this.resource.node.addDependency(dependency);
  }
}
