/**
 * Custom resource that runs the config's `migrations` (SQL files) on deploy, through RDS Proxy with IAM auth over TLS,
 * exactly as the handlers connect (lib/functions/migrationResource.ts reads the same WARREN_DB_* variables). The SQL files are
 * copied into the function's bundle; their SHA-256 is a resource property, so the resource is updated (and the files
 * run again, in order) whenever the SQL changed, and so is its target (instance, proxy, database, users). Triggers depend on it, so no message is handled before the tables
 * exist; a failing statement fails the deploy with MySQL's error as the reason.
 */
import { CustomResource, Duration } from 'aws-cdk-lib';
import { ownFunctionEntry } from './ownFunctions.js';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './errors.js';
import type { WarrenDatabase } from './WarrenDatabase.js';
import { WarrenFunction } from './WarrenFunction.js';
import { warrenProvider } from './warrenProvider.js';

export interface WarrenMigrationsProps {
  readonly projectRoot: string;
  /** SQL files relative to `projectRoot`, run in this order. */
  readonly files: readonly string[];
  readonly database: WarrenDatabase;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** Where the bundled SQL files are, relative to the function's code directory: `migrations/<index>.sql`. */
export function bundledMigrationName(index: number): string {
  return `migrations/${String(index).padStart(4, '0')}.sql`;
}

/** SHA-256 over the files' names and contents, in order. */
export function migrationsHash(projectRoot: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    let sql: Buffer;
    try {
      sql = readFileSync(resolve(projectRoot, file));
    } catch (error) {
      throw new ConfigError('migrations', `cannot read ${JSON.stringify(file)} (relative to ${projectRoot}); fix the path in warren.config.ts`, { cause: error });
    }
    hash.update(file).update('\0').update(sql).update('\0');
  }
  return hash.digest('hex');
}

export class WarrenMigrations extends Construct {
  public readonly function: WarrenFunction;
  public readonly resource: CustomResource;

  public constructor(scope: Construct, id: string, props: WarrenMigrationsProps) {
    super(scope, id);
    const sha256 = migrationsHash(props.projectRoot, props.files);
    this.function = new WarrenFunction(this, 'OnEvent', {
      projectRoot: props.projectRoot,
      entry: ownFunctionEntry('migrationResource'),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      timeout: Duration.minutes(10),
      memorySize: 256,
      description: 'Runs Warren migrations through RDS Proxy',
      // The master user: it creates tables and the application user (runtime/db/appDatabaseUser.ts).
      environment: props.database.environment(props.database.user),
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_inputDir, outputDir) => [
          `mkdir -p "${outputDir}/migrations"`,
          ...props.files.map((file, i) => `cp "${resolve(props.projectRoot, file)}" "${outputDir}/${bundledMigrationName(i)}"`),
        ],
      },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    props.database.grantConnect(this.function, props.database.user);
    props.database.appSecret.grantRead(this.function);
    const provider = warrenProvider(this, 'Provider', this.function, props.logRetention);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WarrenMigrations',
      // The target is named too: a new database instance, proxy, database or user is an Update, so the tables and the
      // application user are created again there (the function reads its target from WARREN_DB_*; these only change).
      properties: {
        Files: JSON.stringify(props.files), Sha256: sha256, AppSecretArn: props.database.appSecret.secretArn,
        Target: { Instance: props.database.instanceIdentifier, ProxyEndpoint: props.database.proxy.endpoint, Database: props.database.databaseName, User: props.database.user, AppUser: props.database.appUser },
      },
    });
    // The proxy's endpoint exists before its target group has registered the database: wait for the target group too
    // (the function also retries its connect, since a registered target takes a while to turn AVAILABLE).
    const targetGroup = props.database.proxy.node.tryFindChild('ProxyTargetGroup');
    if (targetGroup === undefined) throw new ConfigError('database', 'the RDS Proxy has no target group child; this is a bug in WarrenMigrations, please report it');
    this.resource.node.addDependency(targetGroup);
  }
}
