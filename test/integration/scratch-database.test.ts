import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createScratchDatabase } from '../../src/db/scratch-database';

const baseUrl = process.env.DATABASE_URL;

describe.skipIf(!baseUrl)('scratch databases (PostgreSQL)', () => {
  const exists = async (name: string) => {
    const sql = postgres(baseUrl!, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select 1 from pg_database where datname = ${name}`;
      return rows.length === 1;
    } finally {
      await sql.end();
    }
  };

  it('drops the database although a session of the same role is still attached', async () => {
    const scratch = await createScratchDatabase(baseUrl!, 'keel_scratch_test');
    expect(scratch.name).toMatch(/^keel_scratch_test_\d+_[a-z0-9]+$/);
    expect(new URL(scratch.url).pathname).toBe(`/${scratch.name}`);
    const leftover = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await leftover`select 1`;
    expect(await exists(scratch.name)).toBe(true);

    expect(await scratch.drop()).toBeUndefined();
    expect(await exists(scratch.name)).toBe(false);
    await leftover.end({ timeout: 1 }).catch(() => {});
  });
});
