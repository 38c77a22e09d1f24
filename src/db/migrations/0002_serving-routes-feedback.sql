CREATE TABLE "feedback" (
	"prediction_id" text PRIMARY KEY NOT NULL,
	"label" integer,
	"value" double precision,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feedback_label_xor_value" CHECK (("feedback"."label" is null) <> ("feedback"."value" is null))
);
--> statement-breakpoint
CREATE TABLE "routes" (
	"model_name" text PRIMARY KEY NOT NULL,
	"baseline_version" integer NOT NULL,
	"candidate_version" integer NOT NULL,
	"candidate_weight" double precision NOT NULL,
	"shadow" boolean DEFAULT false NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "routes_weight_range" CHECK ("routes"."candidate_weight" >= 0 and "routes"."candidate_weight" <= 1),
	CONSTRAINT "routes_distinct_versions" CHECK ("routes"."baseline_version" <> "routes"."candidate_version")
);
--> statement-breakpoint
ALTER TABLE "prediction_log" ALTER COLUMN "outputs" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "prediction_log" ADD COLUMN "shadow" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "prediction_log" ADD COLUMN "primary_id" text;--> statement-breakpoint
ALTER TABLE "prediction_log" ADD COLUMN "error" text;