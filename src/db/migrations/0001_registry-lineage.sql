CREATE TABLE "model_version_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"action" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"details" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registered_models" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alias_history" ALTER COLUMN "to_version" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "alias_history" ADD COLUMN "action" text DEFAULT 'set' NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "ended_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "creator" text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "tags" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "feature_pipeline" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "source" text DEFAULT 'pipeline' NOT NULL;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "status_changed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "model_version_events_model_version" ON "model_version_events" USING btree ("model_name","version");--> statement-breakpoint
CREATE INDEX "model_versions_artifact" ON "model_versions" USING btree ("artifact_sha256");--> statement-breakpoint
INSERT INTO "registered_models" ("name") SELECT DISTINCT "model_name" FROM "model_versions" ON CONFLICT DO NOTHING;--> statement-breakpoint
UPDATE "model_versions" SET "creator" = 'workflow:' || "workflow_id" WHERE "creator" = 'unknown';--> statement-breakpoint
UPDATE "deployments" AS d SET "ended_at" = now() WHERE EXISTS (SELECT 1 FROM "deployments" AS l WHERE l."model_name" = d."model_name" AND l."id" > d."id");
