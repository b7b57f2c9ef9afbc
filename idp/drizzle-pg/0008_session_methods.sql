ALTER TABLE "authorization_codes" ADD COLUMN "amr" jsonb DEFAULT '["pwd"]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "device_authorizations" ADD COLUMN "amr" jsonb;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "amr" jsonb DEFAULT '["pwd"]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "sso_sessions" ADD COLUMN "amr" jsonb DEFAULT '["pwd"]'::jsonb NOT NULL;