ALTER TABLE `authorization_codes` ADD `amr` text DEFAULT '["pwd"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `device_authorizations` ADD `amr` text;--> statement-breakpoint
ALTER TABLE `grants` ADD `amr` text DEFAULT '["pwd"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `sso_sessions` ADD `amr` text DEFAULT '["pwd"]' NOT NULL;