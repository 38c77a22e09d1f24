CREATE TABLE "approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"evaluation" jsonb NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"on_timeout" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"reason" text,
	"channel" text,
	"authenticated" boolean,
	CONSTRAINT "approvals_status" CHECK ("approvals"."status" in ('pending', 'approved', 'rejected'))
);
--> statement-breakpoint
CREATE INDEX "approvals_status_model" ON "approvals" USING btree ("status","model_name");--> statement-breakpoint
CREATE INDEX "approvals_model_version" ON "approvals" USING btree ("model_name","version");