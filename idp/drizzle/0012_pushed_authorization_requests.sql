CREATE TABLE `pushed_authorization_requests` (
	`digest` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`params` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `pushed_authorization_requests_expiry` ON `pushed_authorization_requests` (`expires_at`);--> statement-breakpoint
ALTER TABLE `clients` ADD `require_pushed_authorization_requests` integer DEFAULT false NOT NULL;