-- Request counts per client and minute, shared by every server process when there is no Redis.
-- UNLOGGED: the counts are worth nothing after a crash, and skipping the WAL keeps each request's upsert cheap.
CREATE UNLOGGED TABLE IF NOT EXISTS "rate_limit_windows" (
	"key" text PRIMARY KEY NOT NULL,
	"hits" integer NOT NULL,
	"resets_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "rate_limit_windows_resets_at_idx" ON "rate_limit_windows" ("resets_at");
