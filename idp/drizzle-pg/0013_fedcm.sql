ALTER TABLE "authorization_codes" ADD COLUMN "origin" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "fedcm_origins" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "policy_uri" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "tos_uri" text;--> statement-breakpoint
ALTER TABLE "sso_sessions" ADD COLUMN "fedcm_digest" text;--> statement-breakpoint
CREATE UNIQUE INDEX "sso_sessions_fedcm_unique" ON "sso_sessions" USING btree ("fedcm_digest");