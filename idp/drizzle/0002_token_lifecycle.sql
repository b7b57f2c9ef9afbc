CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`subject` text,
	`client_id` text,
	`ip` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_events_at` ON `audit_events` (`at`);--> statement-breakpoint
CREATE INDEX `audit_events_type` ON `audit_events` (`type`);--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`digest` text PRIMARY KEY NOT NULL,
	`grant_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`rotated_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`grant_id`) REFERENCES `grants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `refresh_tokens_grant` ON `refresh_tokens` (`grant_id`);--> statement-breakpoint
CREATE TABLE `status_lists` (
	`id` integer PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`next_index` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `access_tokens` ADD `status_list` integer;--> statement-breakpoint
ALTER TABLE `access_tokens` ADD `status_index` integer;--> statement-breakpoint
CREATE INDEX `access_tokens_status` ON `access_tokens` (`status_list`,`status_index`);--> statement-breakpoint
ALTER TABLE `clients` ADD `grant_types` text DEFAULT '["authorization_code"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `grants` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `grants` ADD `offline` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `grants_user` ON `grants` (`user_id`);