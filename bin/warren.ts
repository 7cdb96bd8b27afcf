#!/usr/bin/env -S npx tsx
/**
 * CDK entry: `npx cdk synth` / `npx cdk deploy` (the `warren:*` context keys are in README.md, "Deploy to AWS").
 * Writes `warren.lock.json` when the synth placed a new handler or pinned a new resource (commit it); in CI (`CI` set)
 * the record must already hold every entry (docs/changing-a-deployed-app.md).
 */
import { createWarrenApp } from '../lib/app.js';
import { saveLock } from '../lib/warrenLock.js';

const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI.toLowerCase());
const { app, stack, lockFile } = await createWarrenApp(ci ? { lockMode: 'locked' } : {});
app.synth();
if (lockFile !== undefined && stack.lockMode === 'write' && saveLock(lockFile, stack.stackName, stack.lock)) {
  process.stderr.write(`Warren: wrote ${lockFile}${stack.lockAdded.length > 0 ? ` (${stack.lockAdded.length} new: ${stack.lockAdded.slice(0, 5).join(', ')}${stack.lockAdded.length > 5 ? ', ...' : ''})` : ''}. Commit it with this change.\n`);
}
