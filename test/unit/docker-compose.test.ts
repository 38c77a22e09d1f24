import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * No Docker engine runs here, so docker-compose.yml is checked as far as a file can be: against
 * the Compose Specification's JSON Schema (test/fixtures/compose-spec/compose-spec.json, vendored
 * from compose-spec/compose-go v2.16.2, the schema `docker compose config` validates with), then
 * for what the schema cannot see: references between services, and the stack issue 18 asks for.
 */
const schema = JSON.parse(readFileSync('test/fixtures/compose-spec/compose-spec.json', 'utf8')) as object;
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      depends_on?: Record<string, unknown> | string[];
      volumes?: string[];
      environment?: Record<string, string>;
      deploy?: { replicas?: number };
      command?: string[];
      ports?: string[];
    }
  >;
  volumes: Record<string, unknown>;
};

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification schema', () => {
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is refused by the schema when a service has a misspelt key (the check can fail)', () => {
    const broken = structuredClone(compose);
    (broken.services.server as Record<string, unknown>).dependson = ['postgres'];
    expect(validate(broken)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain('dependson');
  });

  it('names only services and volumes it defines', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dependency of Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {}))
        expect(compose.services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (!source.startsWith('.')) expect(compose.volumes, `${name} mounts ${source}`).toHaveProperty(source);
      }
    }
    const hostPorts = Object.values(compose.services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('runs a control worker, two training workers, the server, the dashboard and Prometheus, after the migrations', () => {
    const { services } = compose;
    expect(services['worker-control'].environment?.KEEL_TASK_QUEUES).toBe('control');
    expect(services['worker-train'].environment?.KEEL_TASK_QUEUES).toBe('train');
    expect(services['worker-train'].deploy?.replicas).toBe(2);
    // The YAML merge keeps the shared settings in the training workers.
    expect(services['worker-train'].environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(services.dashboard.command).toEqual(['npm', 'run', 'ui']);
    expect(services.prometheus).toBeDefined();
    expect(services.migrate.command).toEqual(['npm', 'run', 'migrate']);
    for (const name of ['worker-control', 'worker-train', 'server', 'dashboard']) {
      expect((services[name].depends_on as Record<string, unknown>).migrate, name).toEqual({ condition: 'service_completed_successfully' });
    }
  });
});
