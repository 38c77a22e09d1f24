CREATE TABLE "training_checkpoints" (
	"training_run_id" text PRIMARY KEY NOT NULL,
	"iteration" integer NOT NULL,
	"artifact_sha256" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "resumed_from_iteration" integer;