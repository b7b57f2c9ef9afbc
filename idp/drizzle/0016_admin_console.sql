ALTER TABLE `users` ADD `is_admin` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `disabled_at` integer;--> statement-breakpoint
CREATE INDEX `audit_events_subject` ON `audit_events` (`subject`);--> statement-breakpoint
CREATE INDEX `audit_events_client` ON `audit_events` (`client_id`);