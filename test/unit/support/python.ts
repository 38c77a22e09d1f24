import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const found = new Map<string, string>();

/**
 * A Python that can import `modules` (e.g. 'sklearn, numpy'): $KEEL_PYTHON, else the benchmarks'
 * virtualenv (~/.cache/keel/bench-venv), else python3 — and when none has them, the virtualenv is
 * made once by bench/train/setup-python.sh (pip, from PyPI), so `npm test` needs nothing installed
 * by hand beyond python3 with venv. If that fails too, the error says what to do: the Python
 * cross-checks are the proof that keel's outputs mean what the references' mean.
 */
export function pythonWith(modules: string): string {
  const known = found.get(modules);
  if (known) return known;
  const candidates = [process.env.KEEL_PYTHON, join(homedir(), '.cache/keel/bench-venv/bin/python'), 'python3'].filter(
    (candidate): candidate is string => !!candidate && (!candidate.includes('/') || existsSync(candidate)),
  );
  const usable = (python: string) => spawnSync(python, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0;
  for (const candidate of candidates) {
    if (usable(candidate)) return remember(modules, candidate);
  }
  const setup = spawnSync('bash', [join(import.meta.dirname, '../../../bench/train/setup-python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const made = setup.stdout?.trim().split('\n').at(-1);
  if (setup.status === 0 && made && usable(made)) return remember(modules, made);
  throw new Error(
    `no Python with ${modules} (tried ${candidates.join(', ')}; bench/train/setup-python.sh said: ${setup.stderr?.trim().split('\n').slice(-3).join(' / ') || setup.error?.message}): ` +
      'install python3 with venv (Debian: python3-venv), then run `bash bench/train/setup-python.sh` ' +
      '(creates ~/.cache/keel/bench-venv) or set KEEL_PYTHON to a python that has them',
  );
}

function remember(modules: string, python: string): string {
  found.set(modules, python);
  return python;
}
