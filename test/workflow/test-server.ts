import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, nodeFsProbe } from '../../src/runtime/temporal-cli';

/**
 * The Temporal test server behind `TestWorkflowEnvironment.createTimeSkipping`. The SDK downloads
 * a native build from temporal.download, which is unreachable here; the same server is published
 * on Maven Central (`io.temporal:temporal-test-server`) and runs on a JRE.
 *
 * Order: `KEEL_TEMPORAL_TEST_SERVER` (an executable taking the port as its argument) → a cached
 * build → fetched with Maven (`java` and `mvn` on PATH) into the cache → `undefined`, and the SDK
 * downloads its own (needs internet).
 */

const TEST_SERVER_VERSION = '1.38.0';
const TEST_SERVER_ENV = 'KEEL_TEMPORAL_TEST_SERVER';

/** `${XDG_CACHE_HOME:-~/.cache}/keel/test-server/<version>` */
function testServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME?.trim() || path.join(homedir(), '.cache');
  return path.join(base, 'keel', 'test-server', TEST_SERVER_VERSION);
}

export async function locateTestServer(log: (message: string) => void): Promise<string | undefined> {
  const explicit = process.env[TEST_SERVER_ENV]?.trim();
  if (explicit) {
    if (!nodeFsProbe.isExecutable(explicit)) throw new Error(`${TEST_SERVER_ENV} is set to "${explicit}", which is not an executable file`);
    return explicit;
  }
  const dir = testServerCacheDir();
  const launcher = path.join(dir, 'temporal-test-server');
  if (nodeFsProbe.isExecutable(launcher)) return launcher;
  const java = findOnPath('java', process.env, nodeFsProbe);
  const mvn = findOnPath('mvn', process.env, nodeFsProbe);
  if (!java || !mvn) {
    log(`no Temporal test server in ${dir} and no java and mvn to fetch it; the SDK will try to download one`);
    return undefined;
  }
  log(`fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central into ${dir} (once)`);
  await buildLauncher(java, mvn, dir);
  return launcher;
}

/** Copies the server's jars into a private directory, writes the launcher, then renames the whole into place. */
async function buildLauncher(java: string, mvn: string, dir: string): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  const work = await mkdtemp(`${dir}.tmp-`);
  try {
    const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>keel</groupId><artifactId>temporal-test-server-launcher</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`;
    await writeFile(path.join(work, 'pom.xml'), pom);
    await promisify(execFile)(
      mvn,
      ['-q', '-B', '-f', path.join(work, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${path.join(work, 'lib')}`],
      {
        maxBuffer: 16 << 20,
        timeout: 600_000,
      },
    );
    const launcher = path.join(work, 'temporal-test-server');
    await writeFile(
      launcher,
      `#!/bin/sh\n# Temporal test server ${TEST_SERVER_VERSION} (Maven Central); argument: the port.\nexec "${java}" -cp "$(dirname "$0")/lib/*" io.temporal.testserver.TestServer "$@"\n`,
    );
    await chmod(launcher, 0o755);
    await rm(path.join(work, 'pom.xml'));
    await rename(work, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another run finished first: keep its copy.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
