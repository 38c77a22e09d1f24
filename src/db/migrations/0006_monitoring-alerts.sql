CREATE TABLE "alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_key" text NOT NULL,
	"model_name" text NOT NULL,
	"version" integer,
	"kind" text NOT NULL,
	"severity" text NOT NULL,
	"message" text NOT NULL,
	"payload" jsonb NOT NULL,
	"delivery_status" text DEFAULT 'pending' NOT NULL,
	"deliveries" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_incident_key" ON "alerts" USING btree ("incident_key");--> statement-breakpoint
CREATE INDEX "alerts_model_created" ON "alerts" USING btree ("model_name","created_at");