CREATE TABLE "rollout_events" (
	"rollout_id" text NOT NULL,
	"seq" integer NOT NULL,
	"kind" text NOT NULL,
	"percent" double precision,
	"shadow" boolean,
	"actor" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"health" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollout_events_rollout_id_seq_pk" PRIMARY KEY("rollout_id","seq")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"baseline_version" integer NOT NULL,
	"candidate_version" integer NOT NULL,
	"settings" jsonb NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"initiator" text NOT NULL,
	"decided_by" text,
	"reason" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "rollouts_model_started" ON "rollouts" USING btree ("model_name","started_at");