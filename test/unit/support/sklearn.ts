import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Answers requests (see test/unit/support/sklearn_reference.py), in one Python process, with a Python that has scikit-learn and NumPy:
 * $KEEL_PYTHON, else the benchmarks' virtualenv (~/.cache/keel/bench-venv), else python3 — and
 * when none has them, the virtualenv is made once by bench/train/setup-python.sh (pip, from PyPI),
 * so `npm test` needs nothing installed by hand beyond python3 with venv. If that fails too, the
 * test fails with what to do: these tests are the proof that keel's metrics mean what
 * scikit-learn's mean.
 */
export function sklearnReference<T>(requests: readonly object[]): T[] {
  const python = pythonWith('sklearn, numpy');
  const script = join(import.meta.dirname, 'sklearn_reference.py');
  const output = execFileSync(python, [script], { input: JSON.stringify(requests), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(output) as T[];
}

const found = new Map<string, string>();

/** A Python that imports `modules` (e.g. 'sklearn, numpy'), made by bench/train/setup-python.sh if none does. */
export function pythonWith(modules: string): string {
  const known = found.get(modules);
  if (known) return known;
  const candidates = [process.env.KEEL_PYTHON, join(homedir(), '.cache/keel/bench-venv/bin/python'), 'python3'].filter(
    (candidate): candidate is string => !!candidate && (!candidate.includes('/') || existsSync(candidate)),
  );
  const usable = (python: string) => spawnSync(python, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0;
  const remember = (python: string) => (found.set(modules, python), python);
  for (const candidate of candidates) {
    if (usable(candidate)) return remember(candidate);
  }
  const setup = spawnSync('bash', [join(import.meta.dirname, '../../../bench/train/setup-python.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const made = setup.stdout?.trim().split('\n').at(-1);
  if (setup.status === 0 && made && usable(made)) return remember(made);
  throw new Error(
    `no Python with ${modules} (tried ${candidates.join(', ')}; bench/train/setup-python.sh said: ${setup.stderr?.trim().split('\n').slice(-3).join(' / ') || setup.error?.message}): ` +
      'install python3 with venv (Debian: python3-venv), then run `bash bench/train/setup-python.sh` ' +
      '(creates ~/.cache/keel/bench-venv) or set KEEL_PYTHON to a python that has them',
  );
}
