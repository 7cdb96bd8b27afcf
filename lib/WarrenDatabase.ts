/**
 * The database behind RDS Proxy: an RDS MySQL instance created here (its `max_connections` pinned by a parameter group
 * so the connection budget is exact) or an existing one imported; the proxy requires TLS and, by default, IAM auth.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../runtime/env.js';
import { ConfigError, wholeNumber } from './errors.js';

/** An existing RDS MySQL instance. The secret holds `{"username", "password"}` of `user`, which the proxy logs in as. */
export interface ExistingDatabase {
  readonly instanceIdentifier: string;
  readonly endpoint: string;
  /** @default 3306 */
  readonly port?: number;
  readonly secretArn: string;
  readonly securityGroupId: string;
}

export interface WarrenDatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** @default a new instance */
  readonly existing?: ExistingDatabase;
  /** `max_connections` of the database (set on a created instance through its parameter group). */
  readonly maxConnections: number;
  /** The proxy's share of `max_connections`, in percent. */
  readonly maxConnectionsPercent: number;
  /**
   * The master user (the secret's user): only the migrations function connects as it, to create tables and the
   * application user.
   * @default 'warren'
   */
  readonly user?: string;
  /**
   * The application user handlers and the outbox relay connect as: DML on `databaseName` only. Its password is
   * generated into a secret of its own, which the proxy holds beside the master secret; the migrations custom
   * resource creates the user (runtime/db/appDatabaseUser.ts).
   * @default 'warren_app'
   */
  readonly appUser?: string;
  /** @default 'warren' */
  readonly databaseName?: string;
  /** @default 't4g.micro' */
  readonly instanceType?: string;
  /** @default false */
  readonly multiAz?: boolean;
  /** Storage of a created instance, in GiB (gp3; RDS MySQL allows 20 to 65,536). @default 20 */
  readonly allocatedStorage?: number;
  /**
   * Storage autoscaling of a created instance: RDS grows the storage up to this many GiB when free space stays at or
   * below 10% of it for 5 minutes (RDS User Guide, "Managing capacity automatically with Amazon RDS storage
   * autoscaling"). Must be above `allocatedStorage`. You pay for what it grows to.
   * @default 100, or twice `allocatedStorage` when that is more
   */
  readonly maxAllocatedStorage?: number;
  /**
   * `development`: nothing survives the stack (no deletion protection, no final snapshot), so a failed first deploy
   * rolls back to nothing and `cdk destroy` removes the data. `production`: deleting the stack (or the instance) takes
   * a final snapshot (DeletionPolicy `Snapshot`) and keeps the two database secrets, so `cdk destroy` completes and the
   * data stays restorable. See `DATABASE_REMOVAL`.
   * @default 'development'
   */
  readonly stage?: DatabaseStage;
  /**
   * RDS deletion protection. RDS refuses to delete a protected instance, so a failed first deploy could not roll
   * back: turn it on with a later deploy, once the stack exists.
   * @default false
   */
  readonly deletionProtection?: boolean;
  /** Retention of the exported error and slow query logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export const DATABASE_STAGES = ['development', 'production'] as const;
export type DatabaseStage = (typeof DATABASE_STAGES)[number];

export const WARREN_DATABASE_DEFAULTS = {
  user: 'warren',
  appUser: 'warren_app',
  databaseName: 'warren',
  instanceType: 't4g.micro',
  multiAz: false,
  allocatedStorage: 20,
  maxAllocatedStorage: 100,
  /** The FreeStorageSpace alarm fires below this many bytes (2 GiB: 10% of the default 20 GiB, where autoscaling starts). */
  freeStorageAlarmBytes: 2 * 1024 ** 3,
  stage: 'development',
  deletionProtection: false,
  port: 3306,
  /** Statements slower than this (seconds) go to the slow query log, which is exported to CloudWatch Logs. */
  longQueryTimeSeconds: 1,
} as const;

/**
 * What happens to a created instance when CloudFormation deletes it (the stack deleted, or the instance replaced).
 * `production`: `Snapshot` (CloudFormation User Guide, "DeletionPolicy attribute": RDS takes a final DB snapshot, then
 * deletes the instance). The instance must go: CDK gives its helpers (subnet group, security group; `helperRemovalPolicy`
 * in aws-cdk-lib/aws-rds) `Delete` for every policy but `Retain`, and the parameter group and the VPC's subnets are
 * the stack's too, so a retained instance made `cdk destroy` end in DELETE_FAILED while it still used them. The
 * snapshot and the two database secrets (retained, `DATABASE_SECRET_REMOVAL`) are what is left: restore the snapshot
 * with the master secret's password and create `warren_app` again with the application secret's
 * (docs/changing-a-deployed-app.md, "Deleting the stack"). `development`: nothing survives.
 */
export const DATABASE_REMOVAL: Record<DatabaseStage, RemovalPolicy> = {
  development: RemovalPolicy.DESTROY,
  production: RemovalPolicy.SNAPSHOT,
};

/** The database secrets (master and application user): kept in production, so a final snapshot stays restorable. */
export const DATABASE_SECRET_REMOVAL: Record<DatabaseStage, RemovalPolicy> = {
  development: RemovalPolicy.DESTROY,
  production: RemovalPolicy.RETAIN,
};

/**
 * MySQL 8.4 (LTS). RDS MySQL 8.0 left standard support on 2026-07-31 and a new 8.0 instance is enrolled in paid
 * Extended Support; with Extended Support disabled, RDS refuses to create an instance whose major version is past
 * standard support (RDS API CreateDBInstance, EngineLifecycleSupport). 8.4 defaults to caching_sha2_password for the
 * proxy's own login with the secret; the functions authenticate to the proxy with IAM tokens (mysql_clear_password
 * over TLS), so mysql2 never meets caching_sha2_password.
 *
 * A full minor version: CloudFormation's schema lists full versions only (cfn-lint E3691 rejects "8.4"), and 8.4.9 is
 * the newest 8.4 in cfn-lint 1.51's list. The instance keeps AutoMinorVersionUpgrade (RDS's default), so RDS moves it
 * to later 8.4 minors in its maintenance window; CloudFormation compares templates, not the running version, so an
 * unchanged pin never asks for a downgrade. Raise the pin when RDS retires 8.4.9 for new instances.
 */
export const MYSQL_ENGINE_VERSION = '8.4.9';
const ENGINE = rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(MYSQL_ENGINE_VERSION, '8.4') });

export class WarrenDatabase extends Construct {
  public readonly proxy: rds.DatabaseProxy;
  /** The master user (migrations only). */
  public readonly user: string;
  /** The application user (handlers, outbox relay): DML on `databaseName`. */
  public readonly appUser: string;
  /** `{"username", "password"}` of the application user: read by the proxy and the migrations function only. */
  public readonly appSecret: secretsmanager.Secret;
  public readonly databaseName: string;
  public readonly port: number;
  /** The instance when created here. */
  public readonly instance?: rds.DatabaseInstance;
  /** The instance identifier (a `Ref` when created here): the migrations resource names it, so a new target reruns them. */
  public readonly instanceIdentifier: string;

  public constructor(scope: Construct, id: string, props: WarrenDatabaseProps) {
    super(scope, id);
    this.user = props.user ?? WARREN_DATABASE_DEFAULTS.user;
    this.databaseName = props.databaseName ?? WARREN_DATABASE_DEFAULTS.databaseName;
    this.appUser = props.appUser ?? WARREN_DATABASE_DEFAULTS.appUser;
    if (!/^[A-Za-z0-9_]{1,32}$/.test(this.appUser)) throw new ConfigError('appUser', `expected 1-32 letters, digits or _ (a MySQL user name), received ${JSON.stringify(this.appUser)}`);
    if (this.appUser === this.user) throw new ConfigError('appUser', `the application user must not be the master user "${this.user}"; pick another name`);

    // Target and the secret the proxy logs in with: imported, or a new instance with a generated secret.
    let target: rds.IDatabaseInstance;
    let secret: secretsmanager.ISecret;
    if (props.existing !== undefined) {
      this.port = props.existing.port ?? WARREN_DATABASE_DEFAULTS.port;
      target = rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Instance', {
        instanceIdentifier: props.existing.instanceIdentifier,
        instanceEndpointAddress: props.existing.endpoint,
        port: this.port,
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(this, 'InstanceSecurityGroup', props.existing.securityGroupId)],
        engine: ENGINE,
      });
      secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', props.existing.secretArn);
      this.instanceIdentifier = props.existing.instanceIdentifier;
    } else {
      this.port = WARREN_DATABASE_DEFAULTS.port;
      const multiAz = props.multiAz ?? WARREN_DATABASE_DEFAULTS.multiAz;
      const stage = props.stage ?? WARREN_DATABASE_DEFAULTS.stage;
      if (!(DATABASE_STAGES as readonly string[]).includes(stage)) {
        throw new ConfigError('warren:stage', `expected ${DATABASE_STAGES.join(' or ')}, received ${JSON.stringify(stage)}`);
      }
      const allocatedStorage = wholeNumber('warren:databaseAllocatedStorage', props.allocatedStorage ?? WARREN_DATABASE_DEFAULTS.allocatedStorage, 20, 65_536);
      if (props.maxAllocatedStorage !== undefined && props.maxAllocatedStorage <= allocatedStorage) {
        throw new ConfigError('warren:databaseMaxAllocatedStorage', `the storage autoscaling ceiling must be above warren:databaseAllocatedStorage (${allocatedStorage} GiB), received ${props.maxAllocatedStorage}; RDS grows storage up to it`);
      }
      const maxAllocatedStorage = wholeNumber('warren:databaseMaxAllocatedStorage', props.maxAllocatedStorage ?? Math.min(65_536, Math.max(WARREN_DATABASE_DEFAULTS.maxAllocatedStorage, allocatedStorage * 2)), allocatedStorage + 1, 65_536);
      const instance = new rds.DatabaseInstance(this, 'Instance', {
        engine: ENGINE,
        instanceType: new ec2.InstanceType(props.instanceType ?? WARREN_DATABASE_DEFAULTS.instanceType),
        vpc: props.vpc,
        vpcSubnets: props.subnets,
        credentials: rds.Credentials.fromGeneratedSecret(this.user),
        databaseName: this.databaseName,
        parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
          engine: ENGINE,
          // The slow query log is exported below, so turn it on (RDS leaves it off); to a file, which RDS exports.
          parameters: {
            max_connections: String(props.maxConnections),
            slow_query_log: '1',
            long_query_time: String(WARREN_DATABASE_DEFAULTS.longQueryTimeSeconds),
            log_output: 'FILE',
          },
        }),
        engineLifecycleSupport: rds.EngineLifecycleSupport.OPEN_SOURCE_RDS_EXTENDED_SUPPORT_DISABLED,
        storageType: rds.StorageType.GP3,
        allocatedStorage,
        maxAllocatedStorage,
        storageEncrypted: true,
        multiAz,
        iamAuthentication: true,
        deletionProtection: props.deletionProtection ?? WARREN_DATABASE_DEFAULTS.deletionProtection,
        removalPolicy: DATABASE_REMOVAL[stage],
        backupRetention: Duration.days(7),
        cloudwatchLogsExports: ['error', 'slowquery'],
        cloudwatchLogsRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        publiclyAccessible: false,
      });
      if (!(props.deletionProtection ?? WARREN_DATABASE_DEFAULTS.deletionProtection)) {
        Validations.of(instance).acknowledge({
          id: 'AwsSolutions-RDS10',
          reason: 'Deletion protection at creation makes a failed first deploy unable to roll back (RDS refuses to delete a protected instance); production keeps the instance through DeletionPolicy RetainExceptOnCreate, and warren:databaseDeletionProtection=true turns protection on for an existing stack.',
        });
      }
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-RDS11',
        reason: 'The instance sits in private subnets and admits only the proxy\'s security group; a non-default port adds nothing.',
      });
      if (!multiAz) {
        Validations.of(instance).acknowledge({ id: 'AwsSolutions-RDS3', reason: 'Single-AZ by default to keep a first deployment cheap; set warren:databaseMultiAz=true for production.' });
      }
      // cloudwatchLogsRetention adds CDK's LogRetention singleton (a function that sets the exported log groups'
      // retention); its managed policy and log-group wildcard are CDK's own.
      const logRetention = Stack.of(this).node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
      if (logRetention !== undefined) {
        Validations.of(logRetention).acknowledge({ id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'CDK\'s LogRetention function (retention of the RDS log groups RDS creates) uses the basic execution role; it only writes its logs.' });
        Validations.of(logRetention).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'CDK\'s LogRetention function sets retention on log groups RDS names at run time (/aws/rds/instance/<id>/*).' });
      }
      const instanceSecret = instance.secret;
      if (instanceSecret === undefined) throw new ConfigError('databaseUser', 'the created instance has no generated secret; this is a bug in WarrenDatabase, please report it');
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'RDS Proxy logs in with this secret; rotating it needs a rotation Lambda in the VPC, left to the operator (docs/deploy-to-aws.md).',
      });
      // The master secret outlives a production stack with the final snapshot it opens (`instance.secret` is its
      // attachment to the instance; the secret itself is the instance's child `Secret`).
      const masterSecret = instance.node.tryFindChild('Secret');
      if (!(masterSecret instanceof secretsmanager.Secret)) throw new ConfigError('databaseUser', 'the created instance has no generated secret child; this is a bug in WarrenDatabase, please report it');
      masterSecret.applyRemovalPolicy(DATABASE_SECRET_REMOVAL[stage]);
      target = instance;
      secret = instanceSecret;
      this.instance = instance;
      this.instanceIdentifier = instance.instanceIdentifier;
    }

    // The application user's secret: RDS Proxy needs one secret per database user it logs in as ("Setting up database
    // credentials for RDS Proxy", RDS User Guide); the functions still authenticate to the proxy with IAM tokens.
    this.appSecret = new secretsmanager.Secret(this, 'AppSecret', {
      description: `Warren application database user ${this.appUser} (DML on ${this.databaseName}); read by RDS Proxy and the migrations function`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: this.appUser }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
      },
    });
    this.appSecret.applyRemovalPolicy(props.existing === undefined ? DATABASE_SECRET_REMOVAL[props.stage ?? WARREN_DATABASE_DEFAULTS.stage] : RemovalPolicy.DESTROY);
    Validations.of(this.appSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'RDS Proxy logs in with this secret; rotating it needs a rotation Lambda in the VPC and a re-run of the migrations resource (ALTER USER), left to the operator.',
    });

    // Proxy: TLS required, IAM auth, a bounded share of max_connections; it holds the master and the application secret.
    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromInstance(target),
      secrets: [secret, this.appSecret],
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      requireTLS: true,
      iamAuth: true,
      maxConnectionsPercent: props.maxConnectionsPercent,
      maxIdleConnectionsPercent: Math.min(50, props.maxConnectionsPercent),
      idleClientTimeout: Duration.minutes(30),
      borrowTimeout: Duration.seconds(120),
    });
    // No ingress rule here: DatabaseProxy already lets its security group reach the target on the target's port
    // (a second identical rule makes CloudFormation treat both as one, so removing either later removes both).
  }

  /**
   * The WARREN_DB_* variables a function needs to reach the proxy with IAM auth over TLS (see runtime/db/rdsIam.ts), as
   * `user` (the application user unless said otherwise).
   */
  public environment(user: string = this.appUser): Record<string, string> {
    return {
      [ENV.dbHost]: this.proxy.endpoint,
      [ENV.dbPort]: String(this.port),
      [ENV.dbUser]: user,
      [ENV.dbName]: this.databaseName,
      [ENV.dbIamAuth]: 'true',
      [ENV.dbTls]: 'true',
    };
  }

  /**
   * An alarm on the created instance's free storage (AWS/RDS FreeStorageSpace, minimum over 5 minutes, three periods
   * in a row below `WARREN_DATABASE_DEFAULTS.freeStorageAlarmBytes`): storage autoscaling should have grown the disk
   * by then, so it has reached `maxAllocatedStorage`, or is within its 6 hours after the last growth, or the tables
   * grow faster than the pruning function deletes.
   */
  public freeStorageAlarm(): cloudwatch.Alarm {
    if (this.instance === undefined) throw new ConfigError('database', 'an imported database has no FreeStorageSpace alarm of Warren\'s; watch it where the instance is managed');
    return this.instance.metricFreeStorageSpace({ statistic: 'Minimum', period: Duration.minutes(5) }).createAlarm(this, 'FreeStorageLow', {
      alarmDescription: `The database has under ${WARREN_DATABASE_DEFAULTS.freeStorageAlarmBytes / 1024 ** 3} GiB free: storage autoscaling reached warren:databaseMaxAllocatedStorage or waits out its 6 hours; raise the ceiling, check the pruning function's log (old warren_inbox/warren_outbox rows), or free space`,
      threshold: WARREN_DATABASE_DEFAULTS.freeStorageAlarmBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Lets functions with security group `peer` reach the proxy (one rule for every function that shares it). */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.proxy.connections.allowFrom(peer, ec2.Port.tcp(this.port), description);
  }

  /**
   * Lets `grantee` connect through the proxy as `user` with an IAM token: `rds-db:connect` on
   * `arn:aws:rds-db:<region>:<account>:dbuser:prx-<id>/<user>` (RDS User Guide, "Creating and using an IAM policy for
   * IAM database access"). The application user unless said otherwise; only the migrations function passes the master.
   */
  public grantConnect(grantee: iam.IGrantable, user: string = this.appUser): void {
    this.proxy.grantConnect(grantee, user);
  }
}
