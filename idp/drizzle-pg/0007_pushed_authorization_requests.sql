CREATE TABLE "pushed_authorization_requests" (
	"digest" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"params" jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "require_pushed_authorization_requests" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "pushed_authorization_requests" ADD CONSTRAINT "pushed_authorization_requests_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pushed_authorization_requests_expiry" ON "pushed_authorization_requests" USING btree ("expires_at");