ALTER TABLE "training_runs" ADD COLUMN "trial" text DEFAULT 'main' NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "validation_metrics" jsonb;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "evaluation" jsonb;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "gate" jsonb;