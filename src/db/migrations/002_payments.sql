-- A hosted checkout page belongs to the gateway: Stripe gives its URL when the top-up is created,
-- so it is kept with the top-up (the test gateway's page is Casella's own and needs none).
ALTER TABLE topups ADD COLUMN checkout_url text;
ALTER TABLE topups ADD COLUMN gateway_session_id text;
CREATE UNIQUE INDEX topups_gateway_session_key ON topups (gateway, gateway_session_id) WHERE gateway_session_id IS NOT NULL;
