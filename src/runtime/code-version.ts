import { execFileSync } from 'node:child_process';

/** The code a model was trained with: git commit and whether the work tree had changes. */
export interface CodeVersion {
  gitCommit: string | null;
  gitDirty: boolean | null;
}

export function readCodeVersion(cwd = process.cwd()): CodeVersion {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return {
      gitCommit: git('rev-parse', 'HEAD').trim(),
      gitDirty: git('status', '--porcelain', '--untracked-files=no').trim().length > 0,
    };
  } catch {
    // Not a git checkout (e.g. an installed package): the version is unknown, not invented.
    return { gitCommit: null, gitDirty: null };
  }
}
