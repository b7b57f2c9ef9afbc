CREATE TABLE `sign_in_reservations` (
	`attempt` text NOT NULL,
	`key` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`attempt`, `key`)
);
--> statement-breakpoint
CREATE INDEX `sign_in_reservations_key` ON `sign_in_reservations` (`key`);