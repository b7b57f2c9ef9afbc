DROP INDEX `access_tokens_status`;--> statement-breakpoint
CREATE INDEX `access_tokens_revoked_status` ON `access_tokens` (`status_list`,`status_index`) WHERE "access_tokens"."revoked_at" is not null;--> statement-breakpoint
DROP INDEX `backchannel_deliveries_due`;--> statement-breakpoint
CREATE INDEX `backchannel_deliveries_due` ON `backchannel_deliveries` (`next_attempt_at`) WHERE ("backchannel_deliveries"."delivered_at" is null and "backchannel_deliveries"."failed_at" is null);--> statement-breakpoint
CREATE INDEX `sign_in_throttles_last_failure` ON `sign_in_throttles` (`last_failure_at`);