import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseTaskQueues } from '../../src/runtime/workers';
import { routes } from '../../src/serving/http/routes';

/**
 * deploy/k8s rendered by kustomize (every overlay) and validated by kubeconform against the
 * Kubernetes v1.33 strict JSON Schemas vendored in test/fixtures/k8s-schemas, offline; then what
 * a schema cannot see: probes on endpoints keel serves, requests on every container, the PDB and
 * the autoscalers aimed at what exists, the Secret's keys. kustomize and kubeconform are pinned Go
 * programs that .ci/run builds into ~/.cache/keel/bin (KEEL_KUSTOMIZE, KEEL_KUBECONFORM override).
 */
const overlays = readdirSync('deploy/k8s/overlays');
const schemas = 'test/fixtures/k8s-schemas/v1.33.0-standalone-strict/{{ .ResourceKind }}{{ .KindSuffix }}.json';
const scratch = mkdtempSync(join(tmpdir(), 'keel-k8s-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tool(name: string, override: string | undefined): string {
  if (override) return override;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), join(homedir(), '.cache', 'keel', 'bin')]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} not found on PATH nor in ~/.cache/keel/bin: .ci/run builds it (see its setup_k8s_tools)`);
}
const kustomize = tool('kustomize', process.env.KEEL_KUSTOMIZE);
const kubeconform = tool('kubeconform', process.env.KEEL_KUBECONFORM);

function kubeconformOn(file: string): {
  summary: { valid: number; invalid: number; errors: number; skipped: number };
  resources: { filename: string; kind: string; name: string; status: string; msg: string }[];
} {
  const run = spawnSync(kubeconform, ['-strict', '-summary', '-output', 'json', '-schema-location', schemas, file], { encoding: 'utf8' });
  return JSON.parse(run.stdout) as ReturnType<typeof kubeconformOn>;
}

interface Resource {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}
interface Container {
  name: string;
  command: string[];
  env?: { name: string; value: string }[];
  resources?: { requests?: { cpu?: string; memory?: string } };
  readinessProbe?: { httpGet: { path: string } };
  livenessProbe?: { httpGet: { path: string } };
  ports?: { name: string; containerPort: number }[];
}
const containersOf = (r: Resource) => (r.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;

// What the processes serve (src/serving/http/routes.ts, src/runtime/worker-health.ts, src/ui/server.ts).
const served: Record<string, string[]> = {
  server: ['/v2/health/live', '/v2/health/ready', '/healthz'],
  worker: ['/livez', '/readyz'],
  ui: ['/healthz'],
};
const source = (path: string) => readFileSync(path, 'utf8');
it('the probed paths are routes of the programs', () => {
  expect(routes.map((route) => route.template)).toEqual(expect.arrayContaining(served.server));
  for (const path of served.worker) expect(source('src/runtime/worker-health.ts')).toContain(`'${path}'`);
  expect(source('src/ui/server.ts')).toContain("'/healthz'");
});

describe.each(overlays)('deploy/k8s/overlays/%s', (overlay) => {
  const rendered = execFileSync(kustomize, ['build', `deploy/k8s/overlays/${overlay}`], { encoding: 'utf8' });
  const file = join(scratch, `${overlay}.yaml`);
  writeFileSync(file, rendered);
  const resources = parseAllDocuments(rendered).map((d) => d.toJS() as Resource);
  const byKind = (kind: string) => resources.filter((r) => r.kind === kind);
  const named = (kind: string, name: string) => resources.find((r) => r.kind === kind && r.metadata.name === name);

  it('validates against the Kubernetes schemas, every resource', () => {
    const result = kubeconformOn(file);
    expect(result.resources.filter((r) => r.status !== 'statusValid')).toEqual([]);
    expect(result.summary).toEqual({ valid: resources.length, invalid: 0, errors: 0, skipped: 0 });
    expect(resources.every((r) => r.metadata.namespace === 'keel')).toBe(true);
  });

  it('runs a worker Deployment per task queue, the server with its Service, the dashboard and the migration Job', () => {
    const queues = byKind('Deployment').flatMap((d) =>
      containersOf(d).flatMap((c) => (c.env ?? []).filter((e) => e.name === 'KEEL_TASK_QUEUES').map((e) => e.value)),
    );
    expect(queues.sort()).toEqual(['control', 'train']);
    for (const queue of queues) expect(parseTaskQueues(queue)).toEqual([queue]);
    expect(containersOf(named('Deployment', 'keel-server')!)[0].command).toEqual(['npm', 'run', 'server']);
    expect(containersOf(named('Deployment', 'keel-dashboard')!)[0].command).toEqual(['npm', 'run', 'ui']);
    expect(named('Service', 'keel-server')).toBeDefined();
    const job = named('Job', 'keel-migrate')! as unknown as { spec: { template: { spec: { containers: Container[] } } } };
    expect(job.spec.template.spec.containers[0].command).toEqual(['npm', 'run', 'migrate']);
  });

  it('probes endpoints that mean it and requests resources on every container', () => {
    for (const deployment of byKind('Deployment')) {
      for (const container of containersOf(deployment)) {
        const program = container.command.at(-1) === 'worker' ? 'worker' : container.command.at(-1) === 'ui' ? 'ui' : 'server';
        expect(served[program], deployment.metadata.name).toContain(container.readinessProbe?.httpGet.path);
        expect(served[program], deployment.metadata.name).toContain(container.livenessProbe?.httpGet.path);
        expect(container.resources?.requests?.cpu, deployment.metadata.name).toBeDefined();
        expect(container.resources?.requests?.memory, deployment.metadata.name).toBeDefined();
      }
    }
    // The server is ready only with its models loaded, not merely alive.
    expect(containersOf(named('Deployment', 'keel-server')!)[0].readinessProbe?.httpGet.path).toBe('/v2/health/ready');
  });

  it('keeps secrets in the Secret, points at an existing Temporal, and aims the PDB and autoscalers at what exists', () => {
    const secret = named('Secret', 'keel-secrets')!;
    expect(Object.keys(secret.stringData ?? {})).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'KEEL_API_KEYS', 'KEEL_ADMIN_KEYS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']),
    );
    const config = named('ConfigMap', 'keel-config')!;
    expect(config.data?.TEMPORAL_ADDRESS).toMatch(/^[^\s:]+:\d+$/);
    expect(Object.keys(config.data ?? {}).some((key) => /DATABASE_URL|SECRET|API_KEY/.test(key))).toBe(false);
    // Nothing home-made: no StatefulSet, no PostgreSQL or Temporal image.
    expect(byKind('StatefulSet')).toEqual([]);
    expect(rendered).not.toMatch(/image: .*(postgres|temporalio)/);

    const pdb = named('PodDisruptionBudget', 'keel-server')!.spec as { selector: { matchLabels: Record<string, string> } };
    const serverLabels = (named('Deployment', 'keel-server')!.spec as { template: { metadata: { labels: Record<string, string> } } })
      .template.metadata.labels;
    expect(serverLabels).toMatchObject(pdb.selector.matchLabels);
    const hpas = byKind('HorizontalPodAutoscaler').map((h) => h.spec as { scaleTargetRef: { name: string }; metrics: { type: string }[] });
    expect(hpas.map((h) => [h.scaleTargetRef.name, h.metrics[0].type]).sort()).toEqual([
      ['keel-server', 'Pods'],
      ['keel-worker-train', 'External'],
    ]);
    for (const hpa of hpas) expect(named('Deployment', hpa.scaleTargetRef.name)).toBeDefined();
  });
});

it('kubeconform refuses a manifest with an unknown field (the validation can fail)', () => {
  const file = join(scratch, 'broken.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: policy/v1',
      'kind: PodDisruptionBudget',
      'metadata: { name: x }',
      'spec:',
      '  minAvailable: 1',
      '  selektor: {}',
      '',
    ].join('\n'),
  );
  const result = kubeconformOn(file);
  expect(result.summary.invalid).toBe(1);
  expect(result.resources[0].msg).toContain('selektor');
});
