import { describe, expect, it } from 'vitest';
import { connectionOptionsFromEnv } from '../../runtime/db/processConnection.js';
import { databaseSettingsFromEnv, IAM_TOKEN_LIFETIME_MS, PROXY_TLS, rdsIamConnectionOptions, type TokenSigner } from '../../runtime/db/rdsIam.js';

type ClearPassword = { mysql_clear_password: () => () => Buffer };

function fakeSigner(): { sign: TokenSigner; calls: number } {
  const state: { sign: TokenSigner; calls: number } = {
    calls: 0,
    sign: async ({ hostname, port, username }) => `token-${++state.calls}-${username}@${hostname}:${port}`,
  };
  return state;
}

describe('Function: rdsIamConnectionOptions()', () => {
  it('sends the token through mysql_clear_password, NUL-terminated, over verified TLS', async () => {
    const signer = fakeSigner();
    const options = await rdsIamConnectionOptions({ hostname: 'proxy.example', username: 'warren', sign: signer.sign })();
    expect(options).toMatchObject({ host: 'proxy.example', port: 3306, user: 'warren', ssl: PROXY_TLS });
    const plugin = (options.authPlugins as ClearPassword).mysql_clear_password()();
    expect(plugin.toString()).toBe('token-1-warren@proxy.example:3306\0');
  });

  it('reuses a token until five minutes before it expires, then signs a new one for the next connect', async () => {
    let now = 1_000_000;
    const signer = fakeSigner();
    const factory = rdsIamConnectionOptions({ hostname: 'proxy.example', username: 'warren', sign: signer.sign, now: () => now });
    await factory();
    now += IAM_TOKEN_LIFETIME_MS - 5 * 60_000; // exactly at the refresh point: still reused
    await factory();
    expect(signer.calls).toBe(1);
    now += 1;
    const options = await factory();
    expect(signer.calls).toBe(2);
    expect((options.authPlugins as ClearPassword).mysql_clear_password()().toString()).toBe('token-2-warren@proxy.example:3306\0');
  });

  it('signs a real token with @aws-sdk/rds-signer from the role credentials in the environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_REGION: 'eu-west-1' });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    try {
      const options = await rdsIamConnectionOptions({ hostname: 'warren.proxy-abc.eu-west-1.rds.amazonaws.com', username: 'warren' })();
      const token = (options.authPlugins as ClearPassword).mysql_clear_password()().toString().replace(/\0$/, '');
      expect(token).toMatch(/^warren\.proxy-abc\.eu-west-1\.rds\.amazonaws\.com:3306\/\?Action=connect&DBUser=warren&X-Amz-Algorithm=AWS4-HMAC-SHA256&/);
      expect(token).toContain('X-Amz-Expires=900');
    } finally {
      process.env = saved;
    }
  });
});

describe('Function: databaseSettingsFromEnv()', () => {
  it('returns nothing without WARREN_DB_HOST, so processConnection keeps DATABASE_URL', () => {
    expect(databaseSettingsFromEnv({ DATABASE_URL: 'mysql://root@127.0.0.1:3306/test' })).toBeUndefined();
    expect(connectionOptionsFromEnv({ DATABASE_URL: 'mysql://root@127.0.0.1:3306/test' })).toEqual({ url: 'mysql://root@127.0.0.1:3306/test' });
  });

  it('builds a password-free URL and IAM options from the variables the stack sets', async () => {
    const signer = fakeSigner();
    const settings = databaseSettingsFromEnv({
      WARREN_DB_HOST: 'p.proxy-x.eu-west-1.rds.amazonaws.com', WARREN_DB_PORT: '3306', WARREN_DB_USER: 'warren', WARREN_DB_NAME: 'warren',
      WARREN_DB_IAM_AUTH: 'true', WARREN_DB_TLS: 'true',
    }, signer.sign);
    expect(settings?.url).toBe('mysql://warren@p.proxy-x.eu-west-1.rds.amazonaws.com:3306/warren');
    expect(await settings?.connectionOptions()).toMatchObject({ host: 'p.proxy-x.eu-west-1.rds.amazonaws.com', user: 'warren', ssl: PROXY_TLS });
    expect(signer.calls).toBe(1);
  });

  it('uses a plain password and no TLS when IAM auth and TLS are off', async () => {
    const settings = databaseSettingsFromEnv({ WARREN_DB_HOST: '127.0.0.1', WARREN_DB_USER: 'root', WARREN_DB_NAME: 'db', WARREN_DB_PASSWORD: 's3cret' });
    expect(settings?.url).toBe('mysql://root@127.0.0.1:3306/db');
    expect(await settings?.connectionOptions()).toEqual({ host: '127.0.0.1', port: 3306, user: 'root', database: 'db', password: 's3cret' });
  });

  it('names the variable that is wrong', () => {
    expect(() => databaseSettingsFromEnv({ WARREN_DB_HOST: 'h' })).toThrow('Invalid config at "WARREN_DB_USER": required when WARREN_DB_HOST is set');
    expect(() => databaseSettingsFromEnv({ WARREN_DB_HOST: 'h', WARREN_DB_USER: 'u', WARREN_DB_PORT: 'x' })).toThrow('Invalid config at "WARREN_DB_PORT": expected a port number, received "x"');
    expect(() => databaseSettingsFromEnv({ WARREN_DB_HOST: 'h', WARREN_DB_USER: 'u', WARREN_DB_IAM_AUTH: 'yes' })).toThrow('Invalid config at "WARREN_DB_IAM_AUTH": expected "true" or "false", received "yes"');
    expect(() => databaseSettingsFromEnv({ WARREN_DB_HOST: 'h', WARREN_DB_USER: 'u', WARREN_DB_IAM_AUTH: 'true', WARREN_DB_TLS: 'false' })).toThrow('Invalid config at "WARREN_DB_TLS": must be "true" when WARREN_DB_IAM_AUTH is "true"');
  });

  it('checks the proxy certificate host name as well as its chain (mysql2 verifies the name only with verifyIdentity)', () => {
    expect(PROXY_TLS).toEqual({ rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' });
  });
});
