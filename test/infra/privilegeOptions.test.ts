/** The privilege split's options: defaults pinned, and names that would defeat it refused at synth. */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { WARREN_BROKER_USER_DEFAULTS } from '../../lib/WarrenBrokerUser.js';
import { WARREN_DATABASE_DEFAULTS, WarrenDatabase } from '../../lib/WarrenDatabase.js';

function database(options: { user?: string; appUser?: string }): WarrenDatabase {
  const stack = new Stack(new App(), 'T');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  return new WarrenDatabase(stack, 'Db', { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, maxConnections: 60, maxConnectionsPercent: 90, ...options });
}

describe('Options: application users', () => {
  it('pins the defaults: application users warren_app on the broker and the database, master user warren', () => {
    expect(WARREN_BROKER_USER_DEFAULTS).toEqual({ username: 'warren_app' });
    expect({ user: WARREN_DATABASE_DEFAULTS.user, appUser: WARREN_DATABASE_DEFAULTS.appUser }).toEqual({ user: 'warren', appUser: 'warren_app' });
    const db = database({});
    expect([db.user, db.appUser]).toEqual(['warren', 'warren_app']);
  });

  it('refuses an application database user that is the master user, or not a MySQL user name', () => {
    expect(() => database({ user: 'app', appUser: 'app' })).toThrow('Invalid config at "appUser": the application user must not be the master user "app"; pick another name');
    expect(() => database({ appUser: "x'; DROP" })).toThrow('Invalid config at "appUser": expected 1-32 letters, digits or _ (a MySQL user name), received "x\'; DROP"');
  });
});
