CREATE TABLE "drift_references" (
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"dataset_version_id" text NOT NULL,
	"references" jsonb NOT NULL,
	"summary" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "drift_references_model_name_version_pk" PRIMARY KEY("model_name","version")
);
--> statement-breakpoint
ALTER TABLE "drift_reports" ADD COLUMN "performance" jsonb;--> statement-breakpoint
ALTER TABLE "drift_reports" ADD COLUMN "findings" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "drift_reports" ADD COLUMN "data_period" jsonb;--> statement-breakpoint
ALTER TABLE "drift_reports" ADD COLUMN "actions" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "drift_reports_model_window" ON "drift_reports" USING btree ("model_name","window_end");