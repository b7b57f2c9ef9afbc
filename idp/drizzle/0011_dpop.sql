CREATE TABLE `dpop_proofs` (
	`key` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dpop_proofs_expiry` ON `dpop_proofs` (`expires_at`);--> statement-breakpoint
ALTER TABLE `clients` ADD `dpop_bound` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `grants` ADD `dpop_jkt` text;