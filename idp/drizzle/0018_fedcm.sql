ALTER TABLE `authorization_codes` ADD `origin` text;--> statement-breakpoint
ALTER TABLE `clients` ADD `fedcm_origins` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `clients` ADD `policy_uri` text;--> statement-breakpoint
ALTER TABLE `clients` ADD `tos_uri` text;--> statement-breakpoint
ALTER TABLE `sso_sessions` ADD `fedcm_digest` text;--> statement-breakpoint
CREATE UNIQUE INDEX `sso_sessions_fedcm_unique` ON `sso_sessions` (`fedcm_digest`);