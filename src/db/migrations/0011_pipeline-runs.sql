CREATE TABLE "pipeline_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"model_name" text NOT NULL,
	"status" text NOT NULL,
	"stages" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"failure" jsonb,
	"dataset_version_id" text,
	"training_run_id" text,
	"model_version" integer,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "pipeline_runs_model_started" ON "pipeline_runs" USING btree ("model_name","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "pipeline_runs_workflow_run" ON "pipeline_runs" USING btree ("workflow_id","run_id");