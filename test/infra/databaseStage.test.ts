/**
 * What happens to the created database instance when CloudFormation deletes it, per stage, and the storage option:
 * WarrenDatabase alone in a bare stack (no bundling, fast). The full stack's default (development) is asserted in
 * stack.test.ts.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { WARREN_DATABASE_DEFAULTS, WarrenDatabase, type WarrenDatabaseProps } from '../../lib/WarrenDatabase.js';

function synth(props: Partial<WarrenDatabaseProps> = {}): Template {
  const stack = new Stack(new App(), 'Db');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  new WarrenDatabase(stack, 'Database', { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, maxConnections: 60, maxConnectionsPercent: 90, ...props });
  return Template.fromStack(stack);
}

describe('Class: WarrenDatabase', () => {
  it('pins its defaults: master user warren, application user warren_app, t4g.micro, single-AZ, 20 GiB growing to 100, development, no deletion protection', () => {
    expect(WARREN_DATABASE_DEFAULTS).toEqual({
      user: 'warren', appUser: 'warren_app', databaseName: 'warren', instanceType: 't4g.micro', multiAz: false, allocatedStorage: 20,
      maxAllocatedStorage: 100, freeStorageAlarmBytes: 2_147_483_648, stage: 'development', deletionProtection: false, port: 3306, longQueryTimeSeconds: 1,
    });
  });

  it('development: no deletion protection, deleted with the stack and on a failed first deploy, no final snapshot', () => {
    synth().hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete', Properties: { DeletionProtection: false, AllocatedStorage: '20', EngineVersion: '8.4.9' } });
  });

  it('production: a final snapshot when the stack is deleted (DeletionPolicy Snapshot), and both database secrets kept', () => {
    const t = synth({ stage: 'production' });
    t.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot', Properties: { DeletionProtection: false } });
    const secrets = t.findResources('AWS::SecretsManager::Secret');
    expect(Object.values(secrets).map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy])).toEqual([['Retain', 'Retain'], ['Retain', 'Retain']]);
  });

  it('development: both database secrets go with the stack', () => {
    const secrets = synth().findResources('AWS::SecretsManager::Secret');
    expect(Object.values(secrets).map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy])).toEqual([['Delete', 'Delete'], ['Delete', 'Delete']]);
  });

  // cdk destroy in production ended in DELETE_FAILED: the retained instance kept using its subnet group, security
  // group and parameter group, which CloudFormation then failed to delete. Nothing kept may refer to something deleted.
  for (const stage of ['development', 'production'] as const) {
    it(`${stage}: deleting the stack deletes nothing that a kept resource still uses, so it completes`, () => {
      const resources = synth({ stage }).toJSON().Resources as Record<string, { DeletionPolicy?: string; Properties?: unknown }>;
      const kept = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate');
      const refs = (value: unknown): string[] => {
        if (Array.isArray(value)) return value.flatMap(refs);
        if (typeof value !== 'object' || value === null) return [];
        const o = value as Record<string, unknown>;
        if (typeof o.Ref === 'string') return [o.Ref];
        if (Array.isArray(o['Fn::GetAtt'])) return [String(o['Fn::GetAtt'][0])];
        return Object.values(o).flatMap(refs);
      };
      const broken = kept.flatMap(([id, r]) => refs(r.Properties).filter((target) => {
        const policy = resources[target]?.DeletionPolicy;
        return resources[target] !== undefined && policy !== 'Retain' && policy !== 'RetainExceptOnCreate';
      }).map((target) => `${id} -> ${target}`));
      expect(broken).toEqual([]);
    });
  }

  it('turns RDS deletion protection on only when asked (for a stack that already exists)', () => {
    synth({ stage: 'production', deletionProtection: true }).hasResourceProperties('AWS::RDS::DBInstance', { DeletionProtection: true });
  });

  it('takes the storage size, within RDS MySQL\'s gp3 range, naming the key otherwise', () => {
    synth({ allocatedStorage: 100 }).hasResourceProperties('AWS::RDS::DBInstance', { AllocatedStorage: '100', StorageType: 'gp3' });
    expect(() => synth({ allocatedStorage: 10 })).toThrow('Invalid config at "warren:databaseAllocatedStorage": expected a whole number from 20 to 65536, received 10');
  });

  it('turns storage autoscaling on: up to 100 GiB by default, twice a larger allocation, or the ceiling given, which must be above the allocation', () => {
    synth().hasResourceProperties('AWS::RDS::DBInstance', { AllocatedStorage: '20', MaxAllocatedStorage: 100 });
    synth({ allocatedStorage: 80 }).hasResourceProperties('AWS::RDS::DBInstance', { AllocatedStorage: '80', MaxAllocatedStorage: 160 });
    synth({ maxAllocatedStorage: 500 }).hasResourceProperties('AWS::RDS::DBInstance', { AllocatedStorage: '20', MaxAllocatedStorage: 500 });
    expect(() => synth({ allocatedStorage: 50, maxAllocatedStorage: 50 })).toThrow('Invalid config at "warren:databaseMaxAllocatedStorage": the storage autoscaling ceiling must be above warren:databaseAllocatedStorage (50 GiB), received 50; RDS grows storage up to it');
    expect(() => synth({ maxAllocatedStorage: 70_000 })).toThrow('Invalid config at "warren:databaseMaxAllocatedStorage": expected a whole number from 21 to 65536, received 70000');
  });

  it('rejects an unknown stage, naming the key and the choices', () => {
    expect(() => synth({ stage: 'staging' as 'production' })).toThrow('Invalid config at "warren:stage": expected development or production, received "staging"');
  });
});
