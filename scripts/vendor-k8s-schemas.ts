/**
 * Vendors the Kubernetes JSON Schemas that test/unit/k8s-manifests.test.ts validates
 * deploy/k8s against (with kubeconform, offline): the strict schemas of the kinds keel's manifests
 * use, from the `kubernetes-validate` wheel on PyPI (Apache-2.0; generated from the Kubernetes
 * OpenAPI document), with only the definitions they reach.
 *
 *   pip download --no-deps -d /tmp/kv kubernetes-validate==1.37.0 && (cd /tmp/kv && unzip -q *.whl)
 *   npx tsx scripts/vendor-k8s-schemas.ts /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const KINDS = [
  'configmap-v1',
  'secret-v1',
  'service-v1',
  'deployment-apps-v1',
  'job-batch-v1',
  'poddisruptionbudget-policy-v1',
  'horizontalpodautoscaler-autoscaling-v2',
];
const source = process.argv[2];
if (!source) throw new Error('usage: vendor-k8s-schemas.ts <kubernetes-json-schema/vX.Y.Z-local-strict directory>');
const version = basename(source).replace(/-local-strict$/, '');
const target = join('test', 'fixtures', 'k8s-schemas', `${version}-standalone-strict`);
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });

const definitions = (JSON.parse(readFileSync(join(source, '_definitions.json'), 'utf8')) as { $defs: Record<string, unknown> }).$defs;
const refPattern = /"\$ref": ?"(?:\/api\/_definitions\.json)?#\/\$defs\/([^"]+)"/g;
for (const kind of KINDS) {
  const text = readFileSync(join(source, `${kind}.json`), 'utf8');
  // Every definition the kind reaches, copied in: each file stands alone.
  const reached = new Set<string>();
  const pending = [...text.matchAll(refPattern)].map((m) => m[1]);
  while (pending.length) {
    const name = pending.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const m of JSON.stringify(definitions[name]).matchAll(refPattern)) pending.push(m[1]);
  }
  const schema = JSON.parse(text.replaceAll('/api/_definitions.json#', '#')) as Record<string, unknown>;
  schema.$defs = Object.fromEntries([...reached].sort().map((name) => [name, definitions[name]]));
  writeFileSync(join(target, `${kind}.json`), `${JSON.stringify(schema)}\n`);
}
process.stdout.write(`wrote ${KINDS.length} schemas to ${target}\n`);
