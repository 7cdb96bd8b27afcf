/**
 * The application broker user's read permission while shards go away (issue 26, fault 8). CloudFormation updates the
 * parent stack's resources (the broker user among them) before the nested stacks delete the triggers of removed
 * shards, in the update's cleanup phase ("Monitor the progress of a stack update", AWS CloudFormation User Guide: new
 * and updated resources first, removed ones last). A read permission that the broker-user Update took away at once
 * would refuse a trigger that reconnects in between (ACCESS_REFUSED, EVENT_SOURCE_AUTHZ_ERROR). So:
 *   - the broker-user Update keeps read on the shards the update removes (`withRemovedShards`: the read names of
 *     `OldResourceProperties` joined to the new ones);
 *   - the shard-drain resource, deleted in the cleanup phase after the triggers of its shards, takes a drained
 *     shard's name out of the read permission (`dropRead`).
 * The next broker-user Update writes the permissions from the config alone, so a name the drain could not take out
 * (another form of regex) goes then.
 */
import type { VhostPermissions } from '../../topology/brokerPermissions.js';
import { exactly } from '../../topology/brokerPermissions.js';
import type { BrokerCredentials } from '../../runtime/amqp/brokerSecret.js';

/** The names an `exactly()` regex (`^(?:a|b)$`, each name escaped) matches, or undefined for any other regex. */
export function exactNames(regex: string): string[] | undefined {
  if (regex === '^$' || regex === '') return [];
  const whole = /^\^\(\?:(.*)\)\$$/s.exec(regex);
  if (whole === null) return undefined;
  const inner = whole[1]!;
  const names: string[] = [];
  let current = '';
  for (let i = 0; i < inner.length; i += 1) {
    const c = inner[i]!;
    if (c === '\\') { current += inner[i + 1] ?? ''; i += 1; continue; } // escapeRegex puts one before each special character
    if (c === '|') { names.push(current); current = ''; continue; }
    if ('()[]{}*+?^$.'.includes(c)) return undefined; // an unescaped special character: not a list of exact names
    current += c;
  }
  names.push(current);
  return names;
}

/**
 * `wanted`, with each vhost's read permission also naming what `previous` let it read: what an Update writes so the
 * triggers of removed shards keep reading until the cleanup phase deletes them. A regex that is not a list of exact
 * names is joined as it is. A vhost that `previous` had and `wanted` lost (its last handler removed) keeps its old
 * read, and nothing else (configure and write `^$`), for the same reason: its triggers are deleted in the cleanup
 * phase too. The drain resource then takes each name out (`dropRead`), leaving an empty `^$` permission behind.
 */
export function withRemovedShards(wanted: readonly VhostPermissions[], previous: readonly VhostPermissions[]): VhostPermissions[] {
  const kept = wanted.map((p) => {
    const old = previous.find((o) => o.vhost === p.vhost);
    if (old === undefined || old.read === p.read) return p;
    const [now, before] = [exactNames(p.read), exactNames(old.read)];
    if (now !== undefined && before !== undefined) return { ...p, read: exactly([...now, ...before]) };
    return { ...p, read: `${p.read}|${old.read}` };
  });
  const gone = previous.filter((o) => !wanted.some((p) => p.vhost === o.vhost) && o.read !== '^$' && o.read !== '');
  return [...kept, ...gone.map((o) => ({ vhost: o.vhost, configure: '^$', write: '^$', read: o.read }))];
}

export interface ManagementTarget {
  readonly consoleUrl: string;
  readonly admin: BrokerCredentials;
}

/**
 * Takes `queues` out of `username`'s read permission on `vhost` (management API `GET`/`PUT
 * /api/permissions/<vhost>/<user>`). Returns what it did: 'removed', 'absent' (no such user or permission, or no name
 * to take out) or 'kept' (a regex that is not a list of exact names: left for the next broker-user Update).
 */
export async function dropRead(target: ManagementTarget, vhost: string, username: string, queues: readonly string[], timeoutMs = 10_000): Promise<'removed' | 'absent' | 'kept'> {
  const auth = `Basic ${Buffer.from(`${target.admin.username}:${target.admin.password}`).toString('base64')}`;
  const url = `${target.consoleUrl.replace(/\/$/, '')}/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(username)}`;
  const got = await fetch(url, { headers: { authorization: auth }, signal: AbortSignal.timeout(timeoutMs) });
  if (got.status === 404) return 'absent';
  if (!got.ok) throw new Error(`management API answered HTTP ${got.status} to GET ${new URL(url).pathname}`);
  const current = (await got.json()) as { configure: string; write: string; read: string };
  const names = exactNames(current.read);
  if (names === undefined) return 'kept';
  const left = names.filter((n) => !queues.includes(n));
  if (left.length === names.length) return 'absent';
  const put = await fetch(url, {
    method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ configure: current.configure, write: current.write, read: exactly(left) }), signal: AbortSignal.timeout(timeoutMs),
  });
  if (!put.ok) throw new Error(`management API answered HTTP ${put.status} to PUT ${new URL(url).pathname}`);
  return 'removed';
}
