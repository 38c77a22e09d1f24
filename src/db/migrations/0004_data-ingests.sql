CREATE TABLE "dataset_ingests" (
	"id" text PRIMARY KEY NOT NULL,
	"ingest_key" text NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"dataset_version_id" text,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dataset_versions" ADD COLUMN "duplicate_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "dataset_versions" ADD COLUMN "report" jsonb;--> statement-breakpoint
ALTER TABLE "quarantined_rows" ADD COLUMN "kind" text DEFAULT 'invalid' NOT NULL;--> statement-breakpoint
CREATE INDEX "dataset_ingests_key" ON "dataset_ingests" USING btree ("ingest_key");--> statement-breakpoint
CREATE INDEX "dataset_ingests_status" ON "dataset_ingests" USING btree ("status","name");--> statement-breakpoint
CREATE INDEX "dataset_versions_name_created" ON "dataset_versions" USING btree ("name","created_at");