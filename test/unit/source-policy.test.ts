import { describe, expect, it } from 'vitest';
import { parseHttpSources, parsePostgresSources, parseSourceRoots } from '../../src/data/source-policy';
import { registeredCommand, trainerEnvironment } from '../../src/ml/trainer-commands';
import { readEnvironment } from '../../src/runtime/environment';
import { redactSecrets, redactUrl } from '../../src/shared/redact';

describe('the operator settings that bound pipeline inputs', () => {
  it('parse origins with the variables each may receive, and name what does not parse', () => {
    expect(parseHttpSources('https://api.example.com=API_TOKEN+OTHER, http://127.0.0.1:9000')).toEqual([
      { origin: 'https://api.example.com', env: ['API_TOKEN', 'OTHER'] },
      { origin: 'http://127.0.0.1:9000', env: [] },
    ]);
    expect(parseHttpSources('https://api.example.com/v1')).toMatch(/"https:\/\/api\.example\.com\/v1" is not an http\(s\) origin/);
    expect(parseHttpSources('ftp://x.org')).toMatch(/not an http\(s\) origin/);
    expect(parseHttpSources('https://x.org=lower')).toMatch(/"lower" \(for https:\/\/x\.org\) is not an environment variable name/);
    expect(() => readEnvironment({ KEEL_HTTP_SOURCES: 'nope' })).toThrow(/invalid environment: KEEL_HTTP_SOURCES: "nope" is not an origin/);
  });

  it('parse postgres aliases and source roots', () => {
    expect(parsePostgresSources('warehouse=WAREHOUSE_URL,crm=CRM_URL')).toEqual({ warehouse: 'WAREHOUSE_URL', crm: 'CRM_URL' });
    expect(parsePostgresSources('warehouse')).toMatch(/must name an environment variable \(alias=VARIABLE\)/);
    expect(parseSourceRoots('data, /srv/x ,vega-datasets:', '/proj')).toEqual(['/proj/data', '/srv/x', 'vega-datasets:']);
    expect(readEnvironment({ KEEL_CONFIG: '/proj/keel.config.json' }).sources.roots).toEqual(['/proj', 'vega-datasets:']);
    expect(() => readEnvironment({ KEEL_TRAINER_USER: 'nobody' })).toThrow(/KEEL_TRAINER_USER: must be uid or uid:gid/);
    expect(readEnvironment({ KEEL_TRAINER_USER: '1000:100' }).trainerUser).toEqual({ uid: 1000, gid: 100 });
  });

  it('resolve a registered command from its directory, and give its program a minimal environment', () => {
    const trainers = { mine: { argv: ['python3', 'train/fit.py', '--fast', '/abs/x.py'], dir: '/proj', passEnv: ['MLFLOW_URI'] } };
    expect(registeredCommand('trainer.command', 'mine', trainers).argv).toEqual(['python3', '/proj/train/fit.py', '--fast', '/abs/x.py']);
    const env = trainerEnvironment(
      { PATH: '/bin', DATABASE_URL: 'postgres://u:p@h/d', KEEL_ADMIN_KEYS: 'k', MLFLOW_URI: 'http://m' },
      '/tmp/x',
      ['MLFLOW_URI'],
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/tmp/x', TMPDIR: '/tmp/x', LANG: 'C.UTF-8', MLFLOW_URI: 'http://m' });
  });
});

describe('redaction', () => {
  it('masks URL passwords and credential-like query values, and known secrets anywhere', () => {
    expect(redactUrl('postgres://keel:s3cret@db:5432/keel')).toBe('postgres://keel:***@db:5432/keel');
    expect(redactUrl('https://api.example.com/rows?page=2&api_key=abc123&token=t')).toBe(
      'https://api.example.com/rows?page=2&api_key=***&token=***',
    );
    expect(redactSecrets('401: bad token tok-123456 for bearer tok-123456', ['tok-123456'])).toBe('401: bad token *** for bearer ***');
    expect(redactSecrets('dataset row 7 has null', ['abc'])).toBe('dataset row 7 has null');
  });
});
