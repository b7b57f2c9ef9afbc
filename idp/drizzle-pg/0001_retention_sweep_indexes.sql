CREATE INDEX "access_tokens_expiry" ON "access_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "backchannel_deliveries_delivered" ON "backchannel_deliveries" USING btree ("delivered_at") WHERE "backchannel_deliveries"."delivered_at" is not null;--> statement-breakpoint
CREATE INDEX "backchannel_deliveries_failed" ON "backchannel_deliveries" USING btree ("failed_at") WHERE "backchannel_deliveries"."failed_at" is not null;--> statement-breakpoint
CREATE INDEX "grants_revoked" ON "grants" USING btree ("revoked_at") WHERE "grants"."revoked_at" is not null;--> statement-breakpoint
CREATE INDEX "grants_expiry" ON "grants" USING btree ("expires_at") WHERE "grants"."expires_at" is not null;--> statement-breakpoint
CREATE INDEX "grants_unrefreshable" ON "grants" USING btree ("created_at") WHERE "grants"."expires_at" is null;--> statement-breakpoint
CREATE INDEX "sso_sessions_ended" ON "sso_sessions" USING btree ("ended_at") WHERE "sso_sessions"."ended_at" is not null;--> statement-breakpoint
CREATE INDEX "sso_sessions_expiry" ON "sso_sessions" USING btree ("expires_at");