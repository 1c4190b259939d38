import { parseEnv, type Env } from "@/lib/env";

/** Fixed, obviously-fake secrets for tests (32-byte base64url keys). */
export const TEST_KEYS = {
  encryption: ["dGVzdC1lbmNyeXB0aW9uLWtleS1vbmUtMzItYnl0ZXM", "dGVzdC1lbmNyeXB0aW9uLWtleS10d28tMzItYnl0ZXM"],
  session: "test-session-secret-that-is-long-enough-1234",
  apiKey: "test-api-key",
  cron: "test-cron-secret-123456",
  webhook: "test-webhook-secret-123456",
  admin: "test-admin-token-123456",
};

/** A test configuration; the database itself is installed by test/support/db.ts. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Env {
  return parseEnv({
    NODE_ENV: "test",
    LTIAAS_URL: "http://127.0.0.1:9/emulator",
    LTIAAS_API_KEY: TEST_KEYS.apiKey,
    ENCRYPTION_KEYS: TEST_KEYS.encryption[0],
    SESSION_SECRET: TEST_KEYS.session,
    CRON_SECRET: TEST_KEYS.cron,
    GRADER_WEBHOOK_SECRET: TEST_KEYS.webhook,
    ADMIN_TOKEN: TEST_KEYS.admin,
    PGLITE_DIR: "/nonexistent-tests-never-open-a-data-dir",
    ...overrides,
  });
}
