CREATE TABLE "feature_materializations" (
	"id" text PRIMARY KEY NOT NULL,
	"view_name" text NOT NULL,
	"view_version" text NOT NULL,
	"dataset_version_id" text NOT NULL,
	"as_of" timestamp with time zone NOT NULL,
	"since" timestamp with time zone,
	"latest_event_time" timestamp with time zone,
	"entities" integer NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "feature_view_versions" (
	"version" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "online_features" (
	"view_name" text NOT NULL,
	"entity_key" text NOT NULL,
	"view_version" text NOT NULL,
	"values" jsonb NOT NULL,
	"event_time" timestamp with time zone,
	"as_of" timestamp with time zone NOT NULL,
	"materialization_id" text NOT NULL,
	CONSTRAINT "online_features_view_name_entity_key_pk" PRIMARY KEY("view_name","entity_key")
);
--> statement-breakpoint
CREATE TABLE "online_features_staging" (
	"materialization_id" text NOT NULL,
	"entity_key" text NOT NULL,
	"values" jsonb NOT NULL,
	"event_time" timestamp with time zone,
	CONSTRAINT "online_features_staging_materialization_id_entity_key_pk" PRIMARY KEY("materialization_id","entity_key")
);
--> statement-breakpoint
CREATE TABLE "training_sets" (
	"dataset_version_id" text PRIMARY KEY NOT NULL,
	"source_dataset_version_id" text NOT NULL,
	"views" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "feature_materializations_view" ON "feature_materializations" USING btree ("view_name","as_of");--> statement-breakpoint
CREATE INDEX "feature_view_versions_name" ON "feature_view_versions" USING btree ("name","created_at");