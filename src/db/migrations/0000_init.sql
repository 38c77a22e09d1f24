CREATE TABLE "alias_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"alias" text NOT NULL,
	"from_version" integer,
	"to_version" integer NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dataset_rows" (
	"dataset_version_id" text NOT NULL,
	"row_index" integer NOT NULL,
	"data" jsonb NOT NULL,
	CONSTRAINT "dataset_rows_dataset_version_id_row_index_pk" PRIMARY KEY("dataset_version_id","row_index")
);
--> statement-breakpoint
CREATE TABLE "dataset_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"content_hash" text NOT NULL,
	"spec" jsonb NOT NULL,
	"columns" jsonb NOT NULL,
	"rows_read" integer NOT NULL,
	"row_count" integer NOT NULL,
	"quarantined_count" integer NOT NULL,
	"profile" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" serial PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"idempotency_key" text NOT NULL,
	"workflow_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "drift_reports" (
	"id" serial PRIMARY KEY NOT NULL,
	"run_key" text NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"reference_dataset_version_id" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"row_count" integer NOT NULL,
	"status" text NOT NULL,
	"features" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_aliases" (
	"model_name" text NOT NULL,
	"alias" text NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_aliases_model_name_alias_pk" PRIMARY KEY("model_name","alias")
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"idempotency_key" text NOT NULL,
	"artifact_sha256" text NOT NULL,
	"artifact_bytes" integer NOT NULL,
	"contract" jsonb NOT NULL,
	"params" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"dataset_version_id" text NOT NULL,
	"dataset_hash" text NOT NULL,
	"training_run_id" text NOT NULL,
	"git_commit" text,
	"git_dirty" boolean,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "prediction_log" (
	"id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"inputs" jsonb NOT NULL,
	"outputs" jsonb NOT NULL,
	"latency_ms" double precision NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantined_rows" (
	"dataset_version_id" text NOT NULL,
	"source" text NOT NULL,
	"record_number" integer NOT NULL,
	"raw" jsonb NOT NULL,
	"reasons" jsonb NOT NULL,
	CONSTRAINT "quarantined_rows_dataset_version_id_source_record_number_pk" PRIMARY KEY("dataset_version_id","source","record_number")
);
--> statement-breakpoint
CREATE TABLE "training_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"dataset_version_id" text NOT NULL,
	"trainer" jsonb NOT NULL,
	"model_artifact_sha256" text NOT NULL,
	"learning_curve" jsonb NOT NULL,
	"train_seconds" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alias_history_model_alias_at" ON "alias_history" USING btree ("model_name","alias","at");--> statement-breakpoint
CREATE UNIQUE INDEX "dataset_versions_name_hash" ON "dataset_versions" USING btree ("name","content_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_idempotency" ON "deployments" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "drift_reports_run_key" ON "drift_reports" USING btree ("run_key");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_name_version" ON "model_versions" USING btree ("model_name","version");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_idempotency" ON "model_versions" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "prediction_log_model_time" ON "prediction_log" USING btree ("model_name","created_at");