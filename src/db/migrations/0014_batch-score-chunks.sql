CREATE TABLE "batch_score_chunks" (
	"job_id" text NOT NULL,
	"chunk" integer NOT NULL,
	"model_name" text NOT NULL,
	"version" integer NOT NULL,
	"dataset_version_id" text NOT NULL,
	"start_row" integer NOT NULL,
	"end_row" integer NOT NULL,
	"target" text NOT NULL,
	"attempt" integer NOT NULL,
	"scored_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batch_score_chunks_job_id_chunk_pk" PRIMARY KEY("job_id","chunk")
);
