/**
 * The broker user's credentials from a Secrets Manager secret (JSON `{"username", "password"}`, never logged): read by a
 * handler's publisher on Lambda (runtime/outbox/Publisher.ts) and by the stack's functions (lib/functions/).
 */
import { ConfigError } from '../errors.js';
import { rememberSecret } from '../redact.js';

export interface BrokerCredentials {
  readonly username: string;
  readonly password: string;
}

/** Reads the broker user from a secret; the default asks Secrets Manager. */
export type SecretReader = (secretArn: string) => Promise<BrokerCredentials>;

function parseCredentials(raw: string | undefined): BrokerCredentials {
  let value: unknown;
  try {
    value = JSON.parse(raw ?? '');
  } catch {
    throw new ConfigError('SecretArn', 'the secret is not JSON; expected {"username": "...", "password": "..."}');
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof v.username !== 'string' || typeof v.password !== 'string') {
    throw new ConfigError('SecretArn', 'the secret must hold string fields "username" and "password"');
  }
  // Remembered, so no log line or error this process writes can show it (runtime/redact.ts).
  rememberSecret(v.password);
  return { username: v.username, password: v.password };
}

/** Reads the secret with `@aws-sdk/client-secrets-manager` (loaded only when used). */
export const readSecretsManagerCredentials: SecretReader = async (secretArn) => {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    return parseCredentials(out.SecretString);
  } finally {
    client.destroy();
  }
};
