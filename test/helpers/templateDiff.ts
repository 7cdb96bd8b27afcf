/**
 * Synthesizes the Warren app into a temporary cloud assembly and diffs two of them with `@aws-cdk/cloudformation-diff`
 * (the library behind `cdk diff`, which knows which property changes replace a resource), nested stacks included:
 * what an update deploy would replace, remove, add and update, per template, each resource named by its owner (the
 * handler whose construct holds it, from `aws:cdk:path`, or the parent's logical id).
 */
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../config/config.js';
import { createWarrenApp } from '../../lib/app.js';
import { saveLock, type LockMode, type WarrenLock } from '../../lib/warrenLock.js';
import type { WarrenStack } from '../../lib/WarrenStack.js';

/** The example app (a team's project). */
export const projectRoot = resolve(import.meta.dirname, '../../examples/orders');

type Template = { Resources?: Record<string, { Type: string; Metadata?: Record<string, unknown> }> } & Record<string, unknown>;

export interface Synth {
  readonly stack: WarrenStack;
  /** `parent` and each nested stack by its construct id (`Handlers1`, ...). */
  readonly templates: Readonly<Record<string, Template>>;
  readonly outdir: string;
}

const outdirs: string[] = [];
const SKIPPED_BUNDLE = 'skipped-bundling.zip';

/** Synth without bundling and cdk-nag (tested elsewhere; they dominate the time), with path metadata on. */
export async function synthTemplates(config: ResolvedConfig, options: { context?: Record<string, unknown>; lock?: WarrenLock; lockMode?: LockMode } = {}): Promise<Synth> {
  const outdir = mkdtempSync(join(tmpdir(), 'warren-diff-'));
  outdirs.push(outdir);
  const { app, stack } = await createWarrenApp({
    projectRoot, config, nag: false, outdir,
    context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true, ...options.context },
    ...(options.lockMode === undefined ? {} : { lockMode: options.lockMode }),
    ...(options.lock === undefined ? {} : { lockFile: writeLockFile(outdir, stack0Name(options.context), options.lock) }),
  });
  app.synth();
  // With bundling skipped, CDK hashes a function's asset from settings that include the assembly directory, so the
  // same code gets another S3 key in every temporary directory; a real bundle's key is the hash of its content. One
  // stand-in key keeps that noise out of the diffs (`withNewCode` changes it, as a new Warren version does).
  const read = (file: string) => JSON.parse(readFileSync(join(outdir, file), 'utf8').replace(/"S3Key": "[0-9a-f]{64}\.zip"/g, `"S3Key": "${SKIPPED_BUNDLE}"`)) as Template;
  const templates: Record<string, Template> = { parent: read(`${stack.stackName}.template.json`) };
  for (const g of stack.handlerGroups) templates[g.node.id] = read(g.templateFile);
  return { stack, templates, outdir };
}

function stack0Name(context: Record<string, unknown> | undefined): string {
  const name = context?.['warren:stackName'];
  return typeof name === 'string' ? name : 'Warren';
}

/** The record as a committed file (written by the module's own writer, as bin/warren.ts does), read back at synth. */
function writeLockFile(outdir: string, stackName: string, lock: WarrenLock): string {
  const file = join(outdir, 'warren.lock.json');
  saveLock(file, stackName, lock);
  return file;
}

export function removeSynths(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A new Warren version: every function's code (asset hash in its S3 key) changes, nothing else. */
export function withNewCode(synth: Synth): Synth {
  const rewrite = (t: Template): Template => JSON.parse(JSON.stringify(t).replaceAll(`"S3Key":"${SKIPPED_BUNDLE}"`, '"S3Key":"new-warren-version.zip"')) as Template;
  return { ...synth, templates: Object.fromEntries(Object.entries(synth.templates).map(([k, t]) => [k, rewrite(t)])) };
}

export interface DeployChanges {
  /** `<template>/<owner>/<type>` of each resource CloudFormation would replace (WILL_REPLACE or MAY_REPLACE). */
  readonly replaced: string[];
  /** ... of each resource it would delete (removed from its template, or its nested stack gone). */
  readonly removed: string[];
  readonly added: string[];
  readonly updated: string[];
  /**
   * ... of each resource whose only change is its `DependsOn` (e.g. a trigger that now waits for its group's new
   * drain resource): CloudFormation sends no update for it, since `DependsOn` is no property; it only orders the work.
   */
  readonly reordered: string[];
}

function owner(resource: { Metadata?: Record<string, unknown> } | undefined, logicalId: string): string {
  const path = resource?.Metadata?.['aws:cdk:path'];
  const handler = typeof path === 'string' ? /\/Handler-([^/]+)\//.exec(path)?.[1] : undefined;
  return handler === undefined ? logicalId : `handler ${handler}`;
}

/** What deploying `after` over `before` does, per template (a nested stack that appears or goes counts whole). */
export function deployChanges(before: Synth, after: Synth): DeployChanges {
  const out: DeployChanges = { replaced: [], removed: [], added: [], updated: [], reordered: [] };
  for (const key of new Set([...Object.keys(before.templates), ...Object.keys(after.templates)])) {
    const oldT = before.templates[key] ?? {};
    const newT = after.templates[key] ?? {};
    const diff = fullDiff(oldT, newT);
    diff.resources.forEachDifference((logicalId, change) => {
      const resource = oldT.Resources?.[logicalId] ?? newT.Resources?.[logicalId];
      const label = `${key}/${owner(resource, logicalId)}/${change.oldResourceType ?? change.newResourceType ?? '?'}`;
      const impact = change.changeImpact;
      if (impact === ResourceImpact.WILL_REPLACE || impact === ResourceImpact.MAY_REPLACE) out.replaced.push(label);
      else if (impact === ResourceImpact.WILL_DESTROY || impact === ResourceImpact.WILL_ORPHAN) out.removed.push(label);
      else if (impact === ResourceImpact.WILL_CREATE) out.added.push(label);
      // A custom resource has no schema, so cloudformation-diff rates its property changes NO_CHANGE; CloudFormation
      // still sends it an Update (what the migrations resource relies on).
      else if (impact === ResourceImpact.WILL_UPDATE || (impact === ResourceImpact.NO_CHANGE && change.isDifferent)) {
        // Only `DependsOn` changed: "CloudFormation makes no changes to the automatically updated resources" (DependsOn
        // attribute, CloudFormation Template Reference); cloudformation-diff still rates it WILL_UPDATE.
        const onlyDependsOn = Object.keys(change.propertyUpdates).length === 0 && Object.keys(change.otherChanges).every((k) => k === 'DependsOn');
        (onlyDependsOn ? out.reordered : out.updated).push(label);
      }
    });
  }
  for (const list of Object.values(out) as string[][]) list.sort();
  return out;
}

/** The distinct owners (handler names or parent logical ids) in a list of labels. */
export function owners(labels: readonly string[]): string[] {
  return [...new Set(labels.map((l) => l.split('/')[1] ?? l))].sort();
}
