#!/usr/bin/env node
// Compares two package-lock.json files by content, not by npm's error wording:
//   node .ci/lockfile-drift.mjs COMMITTED RESOLVED
// Exit 0 when RESOLVED only adds optional packages (platform binaries such as @swc/core-darwin-arm64
// that the registry began to serve after the lockfile was written) and changes nothing else; exit 1
// with the differences otherwise. CI uses it to tell registry drift, which is safe to install
// through, from a lockfile that really disagrees with package.json, which must fail.
import { readFileSync } from 'node:fs';

const [committedPath, resolvedPath] = process.argv.slice(2);
if (!committedPath || !resolvedPath) {
  console.error('usage: lockfile-drift.mjs COMMITTED RESOLVED');
  process.exit(2);
}
const committed = JSON.parse(readFileSync(committedPath, 'utf8')).packages ?? {};
const resolved = JSON.parse(readFileSync(resolvedPath, 'utf8')).packages ?? {};

// An optional dependency that a package names in the lockfile may gain entries; its other fields
// must stay as they were.
const withoutOptionalDeps = ({ optionalDependencies: _ignored, ...rest }) => JSON.stringify(rest);

const added = [];
const problems = [];
for (const [path, entry] of Object.entries(resolved)) {
  const before = committed[path];
  if (before === undefined) {
    if (entry.optional === true) added.push(`${path}@${entry.version}`);
    else problems.push(`added, not optional: ${path}@${entry.version}`);
  } else if (withoutOptionalDeps(before) !== withoutOptionalDeps(entry)) {
    problems.push(`changed: ${path} (${before.version} -> ${entry.version})`);
  } else if (JSON.stringify(before.optionalDependencies ?? {}) !== JSON.stringify(entry.optionalDependencies ?? {})) {
    const was = before.optionalDependencies ?? {};
    for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
      if (was[name] !== undefined && was[name] !== range) problems.push(`changed: ${path} optional ${name} ${was[name]} -> ${range}`);
    }
    for (const name of Object.keys(was)) {
      if (!(name in (entry.optionalDependencies ?? {}))) problems.push(`removed: ${path} optional ${name}`);
    }
  }
}
for (const path of Object.keys(committed)) {
  if (!(path in resolved)) problems.push(`removed: ${path}@${committed[path].version}`);
}

if (problems.length > 0) {
  console.log(`package-lock.json disagrees with package.json beyond optional packages (${problems.length}):`);
  for (const p of problems.slice(0, 40)) console.log(`  ${p}`);
  process.exit(1);
}
console.log(`package-lock.json lacks only ${added.length} optional package(s) the registry now serves:`);
for (const a of added.slice(0, 40)) console.log(`  ${a}`);
