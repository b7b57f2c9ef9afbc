CREATE TABLE "dpop_proofs" (
	"key" text PRIMARY KEY NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "dpop_bound" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "dpop_jkt" text;--> statement-breakpoint
CREATE INDEX "dpop_proofs_expiry" ON "dpop_proofs" USING btree ("expires_at");