import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonWith } from './sklearn';

/**
 * Runs the reference `onnx.checker.check_model(model, full_check=True)` (Python's onnx package,
 * which also runs shape inference) on each model; returns '' per valid model, else the checker's
 * message.
 */
export function onnxCheckerErrors(models: readonly Uint8Array[]): string[] {
  const python = pythonWith('onnx');
  const dir = mkdtempSync(join(tmpdir(), 'keel-onnx-check-'));
  try {
    const paths = models.map((bytes, i) => {
      const path = join(dir, `model-${i}.onnx`);
      writeFileSync(path, bytes);
      return path;
    });
    const script = [
      'import json, sys, onnx',
      'out = []',
      'for path in json.load(sys.stdin):',
      '    try:',
      '        onnx.checker.check_model(onnx.load(path), full_check=True)',
      "        out.append('')",
      '    except Exception as error:',
      '        out.append(str(error) or type(error).__name__)',
      'print(json.dumps(out))',
    ].join('\n');
    return JSON.parse(execFileSync(python, ['-c', script], { input: JSON.stringify(paths), encoding: 'utf8' })) as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
