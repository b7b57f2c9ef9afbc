CREATE TABLE `device_authorizations` (
	`digest` text PRIMARY KEY NOT NULL,
	`user_code` text NOT NULL,
	`client_id` text NOT NULL,
	`scope` text NOT NULL,
	`resource` text NOT NULL,
	`device_description` text NOT NULL,
	`device_ip` text NOT NULL,
	`status` text NOT NULL,
	`user_id` text,
	`session_id` text,
	`auth_time` integer,
	`interval` integer NOT NULL,
	`last_polled_at` integer,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `device_authorizations_user_code` ON `device_authorizations` (`user_code`);--> statement-breakpoint
CREATE INDEX `device_authorizations_expiry` ON `device_authorizations` (`expires_at`);--> statement-breakpoint
ALTER TABLE `interactions` ADD `return_to` text;