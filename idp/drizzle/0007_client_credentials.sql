PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_access_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`grant_id` text,
	`client_id` text,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	`status_list` integer,
	`status_index` integer,
	FOREIGN KEY (`grant_id`) REFERENCES `grants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_access_tokens`("jti", "grant_id", "client_id", "expires_at", "revoked_at", "status_list", "status_index") SELECT "jti", "grant_id", NULL, "expires_at", "revoked_at", "status_list", "status_index" FROM `access_tokens`;--> statement-breakpoint
DROP TABLE `access_tokens`;--> statement-breakpoint
ALTER TABLE `__new_access_tokens` RENAME TO `access_tokens`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `access_tokens_grant` ON `access_tokens` (`grant_id`);--> statement-breakpoint
CREATE INDEX `access_tokens_revoked_status` ON `access_tokens` (`status_list`,`status_index`) WHERE "access_tokens"."revoked_at" is not null;--> statement-breakpoint
CREATE INDEX `access_tokens_expiry` ON `access_tokens` (`expires_at`);--> statement-breakpoint
ALTER TABLE `resources` ADD `scopes` text DEFAULT '[]' NOT NULL;