-- json, not jsonb: the prediction log is written once per prediction and rarely read back.
ALTER TABLE "prediction_log" ALTER COLUMN "inputs" SET DATA TYPE json USING "inputs"::json;--> statement-breakpoint
ALTER TABLE "prediction_log" ALTER COLUMN "outputs" SET DATA TYPE json USING "outputs"::json;
